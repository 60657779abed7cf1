import { describe, expect, it } from 'vitest';
import { passwordProblem, registryNameProblem, tagProblem, usernameProblem } from './names';

describe('name rules as the console checks them while typing', () => {
  it('accepts registry names the server accepts', () => {
    for (const ok of ['team', 'a', 'team-backend', 'team--x', 'team.v2', 'my_team', 'my__team', '0day']) expect(registryNameProblem(ok), ok).toBeNull();
  });

  it('explains what is wrong with a registry name', () => {
    expect(registryNameProblem('')).toMatch(/Enter a name/);
    expect(registryNameProblem('Team')).toMatch(/lowercase/);
    expect(registryNameProblem('team/sub')).toMatch(/no "\/"/);
    expect(registryNameProblem('te am')).toMatch(/Only lowercase letters/);
    expect(registryNameProblem('-team')).toMatch(/Start with/);
    expect(registryNameProblem('team.')).toMatch(/End with/);
    expect(registryNameProblem('a..b')).toMatch(/Separators/);
    expect(registryNameProblem('a___b')).toMatch(/Separators/);
  });

  it('counts the registry address toward the 255-character limit', () => {
    const host = 'registry.example.com:5000';
    const max = 255 - host.length - 1;
    expect(registryNameProblem('a'.repeat(max), host)).toBeNull();
    expect(registryNameProblem('a'.repeat(max + 1), host)).toMatch(`at most ${max}`);
  });

  it('checks tags, usernames and passwords', () => {
    expect(tagProblem('1.0.1')).toBeNull();
    expect(tagProblem('_latest')).toBeNull();
    expect(tagProblem('.hidden')).toMatch(/starting with/);
    expect(tagProblem('a b')).not.toBeNull();
    expect(tagProblem('x'.repeat(128))).toBeNull();
    expect(tagProblem('x'.repeat(129))).toMatch(/At most 128/);
    expect(usernameProblem('vera')).toBeNull();
    expect(usernameProblem('Vera')).not.toBeNull();
    expect(usernameProblem('v')).not.toBeNull();
    expect(passwordProblem('short')).toMatch(/At least 8/);
    expect(passwordProblem('long enough')).toBeNull();
  });
});
