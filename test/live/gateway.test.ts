import { defineModeSuite } from './mode-suite';

/**
 * Every example as a gateway: its iptables and nftables files loaded in turn into the router
 * between the device classes and the vendor side. Host-mode profiles are rendered in gateway
 * mode too: the same policy, enforced in front of the devices.
 */
defineModeSuite('gateway');
