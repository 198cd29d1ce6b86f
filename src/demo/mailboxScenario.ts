/**
 * The demo's mailbox scenario, over real SIP: carol is offline, alice writes her a few
 * MESSAGEs (stored, 202), carol REGISTERs a moment later (the mailbox delivers them to her
 * contact, which answers 200), then unregisters; again and again, so the visualizer shows a
 * mailbox filling and emptying.
 */
import type { ScenarioContext } from './context.js';

export async function mailboxScenario(s: ScenarioContext, round: number): Promise<void> {
  const carol = `sip:carol@${s.domain}`;
  const alice = `sip:alice@${s.domain}`;
  for (let i = 1; i <= 4; i++) {
    const res = await s.ua.sendRequest(
      {
        method: 'MESSAGE',
        uri: carol,
        headers: [
          { name: 'from', value: `"Alice" <${alice}>` },
          { name: 'to', value: `<${carol}>` },
          { name: 'content-type', value: 'text/plain' },
        ],
        body: `round ${round}, message ${i}: are you there?`,
      },
      { destination: s.parley },
    );
    s.logger.info({ status: res.status }, `demo: alice -> carol (offline) message ${i}`);
    await s.pause(1500);
  }
  await s.pause(4000);
  const status = await register(s, carol, 120);
  s.logger.info({ status }, 'demo: carol registered; her mailbox delivers');
  await s.pause(8000);
  await register(s, carol, 0);
  s.logger.info('demo: carol unregistered');
}

async function register(s: ScenarioContext, aor: string, expires: number): Promise<number> {
  const res = await s.ua.sendRequest(
    {
      method: 'REGISTER',
      uri: `sip:${s.domain}`,
      headers: [
        { name: 'from', value: `<${aor}>` },
        { name: 'to', value: `<${aor}>` },
        { name: 'contact', value: `<${s.ua.contactUri()}>` },
        { name: 'expires', value: String(expires) },
      ],
    },
    { destination: s.parley },
  );
  return res.status;
}
