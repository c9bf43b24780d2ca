import * as path from 'node:path';
import { exampleProfiles } from '../../src/workspace';
import { conformanceTests } from './conform';
import { renderToTemp } from './render-helpers';

for (const profile of exampleProfiles()) {
  let dir = '';
  beforeAll(() => {
    dir = renderToTemp(profile).dir;
  });
  conformanceTests(path.basename(profile, '.yaml'), () => dir);
}
