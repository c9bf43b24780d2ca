/**
 * Jest's own order, with a head start for a fresh clone. Jest runs the slowest files first when
 * its cache holds their times from an earlier run; CI starts from a clean machine with no cache,
 * so jest falls back to file size, and the Ansible and live-kernel files (short files that wait
 * on real runs) started late and finished last, alone on one worker, while the other sat idle.
 * A file the cache has not timed takes its time from this table (seconds in CI), or none (0):
 * it then runs after every file with a time instead of before them, as jest would put it.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const KNOWN_SECONDS = {
  'test/ansible/linux-guard-iptables.test.ts': 130,
  'test/ansible/linux-guard-nftables.test.ts': 103,
  'test/ansible/aws-settings.test.ts': 78,
  'test/package/install-git.test.ts': 70,
  'test/ansible/linux.test.ts': 59,
  'test/ansible/aws.test.ts': 54,
  'test/live/lan.test.ts': 46,
  'test/query/differential.test.ts': 45,
  'test/hostile/hostile.test.ts': 43,
  'test/live/gateway.test.ts': 39,
  'test/ansible/pfsense-play.test.ts': 38,
  'test/faults/interrupted-render.test.ts': 36,
  'test/live/host.test.ts': 35,
  'test/ansible/playbooks.test.ts': 29,
  'test/conformance/examples.test.ts': 29,
  'test/workspace/incremental.test.ts': 28,
  'test/diff/diff.test.ts': 28,
  'test/package/pack.test.ts': 26,
  'test/ansible/windows-play.test.ts': 25,
  'test/audit/own-output.test.ts': 23,
  'test/faults/planted-links.test.ts': 22,
  'test/workspace/refresh-recipe.test.ts': 22,
  'test/fleet/shard.test.ts': 22,
  'test/query/foreign.test.ts': 22,
  'test/query/files-differential.test.ts': 20,
  'test/audit/planted.test.ts': 19,
  'test/ansible/template-injection.test.ts': 18,
  'test/live/ipv6.test.ts': 18,
  'test/workspace/init.test.ts': 17,
  'test/query/formats.test.ts': 16,
  'test/bench/run.test.ts': 15,
  'test/cli/help.test.ts': 15,
};

class SlowFirstSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const rel = path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/');
    return (KNOWN_SECONDS[rel] ?? 0) * 1000;
  }
}

module.exports = SlowFirstSequencer;
