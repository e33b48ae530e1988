// OrderStream smoke test: a few orders and requests, one of each outcome, run once.
//
//   k6 run -e BASE_URL=http://localhost:5080 k6/smoke.js
//   docker compose --profile load run --rm k6 run /scripts/smoke.js
//
// Expects SKU-001 in stock (compose seeds SKU-001..SKU-010) and Payment__DeclineRate 0;
// with a decline rate above 0 set STRICT=0, which accepts PAYMENT_DECLINED for the
// order that should confirm.
//
// Parameters: BASE_URL (http://localhost:5080), SKU (SKU-001), SETTLE_TIMEOUT (30 s), STRICT (1).

import http from 'k6/http';
import { check, fail, group, sleep } from 'k6';

const BASE_URL = (__ENV.BASE_URL || 'http://localhost:5080').replace(/\/+$/, '');
const SKU = __ENV.SKU || 'SKU-001';
const SETTLE_TIMEOUT_S = Number(__ENV.SETTLE_TIMEOUT || 30);
const STRICT = (__ENV.STRICT || '1') !== '0';
const RUN_ID = Date.now().toString(36);

export const options = {
  scenarios: { smoke: { executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: '3m' } },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
  },
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };

export default function () {
  group('health', () => {
    const res = http.get(`${BASE_URL}/healthz`);
    if (!check(res, { 'gateway /healthz is 200': (r) => r.status === 200 })) fail(`gateway not reachable at ${BASE_URL}`);
  });

  group('inventory through the gateway', () => {
    const all = http.get(`${BASE_URL}/inventory`);
    check(all, { 'GET /inventory is 200 with a list': (r) => r.status === 200 && Array.isArray(json(r)) });
    const one = http.get(`${BASE_URL}/inventory/${SKU}`);
    check(one, { [`GET /inventory/${SKU} is 200`]: (r) => r.status === 200 && json(r)?.sku === SKU });
  });

  group('happy path', () => {
    const view = placeAndSettle({ userId: `smoke-${RUN_ID}`, items: [{ sku: SKU, qty: 1, price: 9.99 }], currency: 'EUR', amount: 9.99 });
    check(view, {
      'order confirms': (v) => !!v && (v.status === 'CONFIRMED' || (!STRICT && v.status === 'FAILED' && v.reason === 'PAYMENT_DECLINED')),
      'settled view has a timeline': (v) => !!v && Array.isArray(v.timeline) && v.timeline.length >= 1,
    });
  });

  group('payment declined: compensation', () => {
    const view = placeAndSettle({ userId: `decline-smoke-${RUN_ID}`, items: [{ sku: SKU, qty: 1, price: 1.5 }], currency: 'EUR' });
    check(view, { 'order fails with PAYMENT_DECLINED': (v) => !!v && v.status === 'FAILED' && v.reason === 'PAYMENT_DECLINED' });
  });

  group('unknown SKU', () => {
    const view = placeAndSettle({ userId: `smoke-${RUN_ID}`, items: [{ sku: `NO-SUCH-SKU-${RUN_ID}`, qty: 1, price: 1 }], currency: 'EUR' });
    check(view, { 'order fails with UNKNOWN_SKU': (v) => !!v && v.status === 'FAILED' && v.reason === 'UNKNOWN_SKU' });
  });

  group('idempotency key', () => {
    const key = `smoke-${RUN_ID}`;
    const order = { userId: `smoke-${RUN_ID}`, items: [{ sku: SKU, qty: 1, price: 2 }], currency: 'EUR' };
    const params = { headers: { ...JSON_HEADERS, 'Idempotency-Key': key } };
    const first = http.post(`${BASE_URL}/orders`, JSON.stringify(order), params);
    const again = http.post(`${BASE_URL}/orders`, JSON.stringify(order), params);
    const changed = http.post(`${BASE_URL}/orders`, JSON.stringify({ ...order, items: [{ sku: SKU, qty: 2, price: 2 }] }),
      { ...params, responseCallback: http.expectedStatuses(422) });
    check(null, {
      'same key and body: 202 with the same order id': () =>
        first.status === 202 && again.status === 202 && json(first)?.orderId === json(again)?.orderId,
      'same key, different body: 422': () => changed.status === 422,
    });
  });

  group('bad input', () => {
    const bad400 = { responseCallback: http.expectedStatuses(400) };
    const invalid = http.post(`${BASE_URL}/orders`,
      JSON.stringify({ userId: '', items: [{ sku: SKU, qty: 0, price: 1.001 }], currency: 'EURO' }),
      { headers: JSON_HEADERS, ...bad400 });
    check(invalid, {
      'invalid order: 400 problem+json': (r) => r.status === 400 && String(r.headers['Content-Type']).startsWith('application/problem+json'),
      'invalid order: errors name the fields': (r) => {
        const errors = json(r)?.errors;
        return !!errors && Object.keys(errors).length >= 3;
      },
    });
    const malformed = http.post(`${BASE_URL}/orders`, '{"userId": ', { headers: JSON_HEADERS, ...bad400 });
    check(malformed, { 'malformed JSON: 400': (r) => r.status === 400 });
    const wrongType = http.post(`${BASE_URL}/orders`, 'userId=x', {
      headers: { 'Content-Type': 'text/plain' },
      responseCallback: http.expectedStatuses(415),
    });
    check(wrongType, { 'wrong content type: 415': (r) => r.status === 415 });
    const unknown = http.get(`${BASE_URL}/orders/00000000-0000-7000-8000-000000000000`, { responseCallback: http.expectedStatuses(404) });
    check(unknown, { 'unknown order: 404': (r) => r.status === 404 });
    const notAnId = http.get(`${BASE_URL}/orders/not-a-uuid`, bad400);
    check(notAnId, { 'malformed order id: 400': (r) => r.status === 400 });
  });
}

// Places an order, then polls it honouring 202 + Retry-After; returns the settled view or null.
function placeAndSettle(order) {
  const res = http.post(`${BASE_URL}/orders`, JSON.stringify(order), { headers: JSON_HEADERS });
  const body = json(res);
  if (!check(res, { 'POST /orders is 202 with an order id': (r) => r.status === 202 && !!body?.orderId })) return null;
  const deadline = Date.now() + SETTLE_TIMEOUT_S * 1000;
  for (;;) {
    const poll = http.get(`${BASE_URL}/orders/${body.orderId}`);
    if (poll.status === 200) return json(poll);
    if (poll.status !== 202) {
      check(poll, { 'GET /orders/{id} is 202 or 200': () => false });
      return null;
    }
    const wait = Number(poll.headers['Retry-After']) || 1;
    if (Date.now() + wait * 1000 > deadline) {
      check(poll, { [`order settles within ${SETTLE_TIMEOUT_S} s`]: () => false });
      return null;
    }
    sleep(wait);
  }
}

function json(res) {
  try {
    return res.json();
  } catch (_) {
    return null;
  }
}
