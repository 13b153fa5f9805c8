import { freePort } from '@tools/devstack/free-port.util';

// A stack takes its sandbox and service ports back to back before any child binds them; the OS can
// give the same port twice in a row (a CI run once put the WDT and Kingdee sandboxes on one port).
describe('freePort', () => {
  it('never hands out the same port twice in one process', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 3000; i++) ports.push(await freePort());
    const repeated = ports.filter((p, i) => ports.indexOf(p) !== i);
    expect(repeated).toEqual([]);
  });
});
