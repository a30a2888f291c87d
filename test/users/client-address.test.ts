// The client's address from the socket and the trusted proxies' X-Forwarded-For entries.
import t from 'tap';
import { clientAddress } from '../../services/users/client-address.js';

const req = (socket: string, xff?: string | string[]) => ({ socket: { remoteAddress: socket }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;

t.test('no proxy: the socket, whatever the header says', (t) => {
  t.equal(clientAddress(req('192.0.2.7', '203.0.113.9'), 0), '192.0.2.7');
  t.equal(clientAddress(req('::ffff:127.0.0.2'), 0), '127.0.0.2');
  t.end();
});

t.test('one proxy (the gateway, an ALB): the last entry', (t) => {
  t.equal(clientAddress(req('10.0.0.5', '192.0.2.7'), 1), '192.0.2.7');
  t.equal(clientAddress(req('10.0.0.5', '203.0.113.9, 198.51.100.1, 192.0.2.7'), 1), '192.0.2.7', 'spoofed entries before it are ignored');
  t.equal(clientAddress(req('10.0.0.5', ['203.0.113.9', '192.0.2.7']), 1), '192.0.2.7', 'several headers are one list');
  t.equal(clientAddress(req('10.0.0.5', '::ffff:127.0.0.3'), 1), '127.0.0.3');
  t.equal(clientAddress(req('10.0.0.5'), 1), '10.0.0.5', 'no header: the socket');
  t.end();
});

t.test('two proxies (CloudFront, then the ALB): the entry before the last', (t) => {
  t.equal(clientAddress(req('10.0.0.5', '192.0.2.7, 130.176.0.1'), 2), '192.0.2.7');
  t.equal(clientAddress(req('10.0.0.5', '203.0.113.9, 192.0.2.7, 130.176.0.1'), 2), '192.0.2.7');
  t.equal(clientAddress(req('10.0.0.5', '1.1.1.1, 2.2.2.2, 192.0.2.7, 130.176.0.1'), 2), '192.0.2.7');
  t.equal(clientAddress(req('10.0.0.5', '130.176.0.1'), 2), '130.176.0.1', 'fewer entries than proxies: the farthest a proxy wrote');
  t.end();
});
