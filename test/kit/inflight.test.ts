// kit/inflight.ts: the responses in flight, as shutdown sees them (count, iteration), kept in
// reused slots rather than a Set (the file says why).
import t from 'tap';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { InflightResponses } from '../../services/kit/inflight.js';

const response = () => new ServerResponse(new IncomingMessage(new Socket()));

t.test('counts and lists what was added and not yet deleted', (t) => {
  const inflight = new InflightResponses();
  const [a, b, c] = [response(), response(), response()];
  inflight.add(a);
  inflight.add(b);
  inflight.add(c);
  t.equal(inflight.size, 3);
  inflight.delete(b);
  t.equal(inflight.size, 2);
  t.same([...inflight], [a, c], 'the others, in the order they came');
  inflight.delete(b);
  inflight.delete(response());
  t.equal(inflight.size, 2, 'deleting twice, or something never added, changes nothing');
  inflight.delete(a);
  inflight.delete(c);
  t.equal(inflight.size, 0);
  t.same([...inflight], []);
  t.end();
});

t.test('a freed slot is reused, so the registry does not grow with the request count', (t) => {
  const inflight = new InflightResponses();
  const first = response();
  inflight.add(first);
  for (let i = 0; i < 1000; i++) {
    const res = response();
    inflight.add(res);
    inflight.delete(res);
  }
  const slots = (inflight as unknown as { slots: unknown[] }).slots;
  t.equal(slots.length, 2, 'two slots for at most two responses at a time');
  t.same([...inflight], [first]);
  t.end();
});
