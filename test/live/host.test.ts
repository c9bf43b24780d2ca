import { defineModeSuite } from './mode-suite';

/**
 * Every example on its hosts: each Linux device class's iptables and nftables host files loaded
 * in turn into that class's namespace. Gateway-mode profiles are rendered in host mode too.
 */
defineModeSuite('host');
