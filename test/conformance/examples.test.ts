import * as path from 'node:path';
import { exampleProfiles } from '../../src/workspace';
import { conformanceTests, SlowValidators } from './conform';
import { renderToTemp } from './render-helpers';

/** One botocore run per model and one cfn-lint run for all the examples: each takes seconds to start. */
const slow = new SlowValidators();

for (const profile of exampleProfiles()) {
  let dir = '';
  beforeAll(() => {
    dir = renderToTemp(profile).dir;
  });
  // Every example has outbound web traffic to host names, so each gets a Network Firewall rule group.
  conformanceTests(path.basename(profile, '.yaml'), () => dir, { networkFirewall: true }, slow);
}
