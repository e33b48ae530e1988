// OrderStream smoke test: a few orders and requests, one of each outcome, run once.
//
//   k6 run -e BASE_URL=http://localhost:5080 -e TOKEN=$(deploy/local/ordersctl token --role customer --user smoke) \
//     -e DECLINE_TOKEN=$(deploy/local/ordersctl token --role customer --user decline-smoke) k6/smoke.js
//   docker compose --profile load run --rm k6 run /scripts/smoke.js
//
// Expects SKU-001 in stock and in the catalogue (run.sh and compose seed SKU-001..SKU-010) and
// Payment__DeclineRate 0; with a decline rate above 0 set STRICT=0, which accepts PAYMENT_DECLINED
// for the order that should confirm. Orders are the token's customer's (k6/auth.js); the compensation
// check needs DECLINE_TOKEN (a "decline-*" customer; compose's demo realm has none, so it says it skipped).
//
// Parameters: BASE_URL (http://localhost:5080), SKU (SKU-001), SETTLE_TIMEOUT (30 s), STRICT (1).

import http from 'k6/http';
import { check, fail, group, sleep } from 'k6';
import { json, tokensFromEnv } from './auth.js';

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

export function setup() {
  return tokensFromEnv();
}

export default function (tokens) {
  const JSON_HEADERS = { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens.customer}` };
  const AUTH = { Authorization: `Bearer ${tokens.customer}` };
  group('health', () => {
    const res = http.get(`${BASE_URL}/healthz`);
    if (!check(res, { 'gateway /healthz is 200': (r) => r.status === 200 })) fail(`gateway not reachable at ${BASE_URL}`);
  });

  group('inventory through the gateway', () => {
    const all = http.get(`${BASE_URL}/inventory`, { headers: AUTH });
    check(all, { 'GET /inventory is 200 with a list': (r) => r.status === 200 && Array.isArray(json(r)) });
    const one = http.get(`${BASE_URL}/inventory/${SKU}`, { headers: AUTH });
    check(one, { [`GET /inventory/${SKU} is 200`]: (r) => r.status === 200 && json(r)?.sku === SKU });
  });

  group('happy path', () => {
    const view = placeAndSettle(tokens.customer, { items: [{ sku: SKU, qty: 1 }], currency: 'EUR' });
    check(view, {
      'order confirms': (v) => !!v && (v.status === 'CONFIRMED' || (!STRICT && v.status === 'FAILED' && v.reason === 'PAYMENT_DECLINED')),
      'settled view has a timeline': (v) => !!v && Array.isArray(v.timeline) && v.timeline.length >= 1,
      'priced from the catalogue': (v) => !!v && v.items.length === 1 && v.items[0].price > 0 && v.amount === v.items[0].price,
    });
  });

  group('payment declined: compensation', () => {
    if (!tokens.decline) {
      console.warn('compensation not checked: no DECLINE_TOKEN (a customer whose id starts with "decline")');
      return;
    }
    const view = placeAndSettle(tokens.decline, { items: [{ sku: SKU, qty: 1 }], currency: 'EUR' });
    check(view, { 'order fails with PAYMENT_DECLINED': (v) => !!v && v.status === 'FAILED' && v.reason === 'PAYMENT_DECLINED' });
  });

  group('unknown SKU', () => {
    const view = placeAndSettle(tokens.customer, { items: [{ sku: `NO-SUCH-SKU-${RUN_ID}`, qty: 1 }], currency: 'EUR' });
    check(view, { 'order fails with UNKNOWN_SKU': (v) => !!v && v.status === 'FAILED' && v.reason === 'UNKNOWN_SKU' });
  });

  group('idempotency key', () => {
    const key = `smoke-${RUN_ID}`;
    const order = { items: [{ sku: SKU, qty: 1 }], currency: 'EUR' };
    const params = { headers: { ...JSON_HEADERS, 'Idempotency-Key': key } };
    const first = http.post(`${BASE_URL}/orders`, JSON.stringify(order), params);
    const again = http.post(`${BASE_URL}/orders`, JSON.stringify(order), params);
    const changed = http.post(`${BASE_URL}/orders`, JSON.stringify({ ...order, items: [{ sku: SKU, qty: 2 }] }),
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
      JSON.stringify({ items: [{ sku: SKU, qty: 0, price: 1.001 }], currency: 'EURO' }),
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
      headers: { 'Content-Type': 'text/plain', ...AUTH },
      responseCallback: http.expectedStatuses(415),
    });
    check(wrongType, { 'wrong content type: 415': (r) => r.status === 415 });
    const unknown = http.get(`${BASE_URL}/orders/00000000-0000-7000-8000-000000000000`, { headers: AUTH, responseCallback: http.expectedStatuses(404) });
    check(unknown, { 'unknown order: 404': (r) => r.status === 404 });
    const notAnId = http.get(`${BASE_URL}/orders/not-a-uuid`, { headers: AUTH, ...bad400 });
    check(notAnId, { 'malformed order id: 400': (r) => r.status === 400 });
    const anonymous = http.get(`${BASE_URL}/orders?userId=alice`, { responseCallback: http.expectedStatuses(401) });
    check(anonymous, { 'no token: 401': (r) => r.status === 401 });
  });
}

// Places an order, then polls it honouring 202 + Retry-After; returns the settled view or null.
function placeAndSettle(token, order) {
  const auth = { Authorization: `Bearer ${token}` };
  const res = http.post(`${BASE_URL}/orders`, JSON.stringify(order), { headers: { 'Content-Type': 'application/json', ...auth } });
  const body = json(res);
  if (!check(res, { 'POST /orders is 202 with an order id': (r) => r.status === 202 && !!body?.orderId })) return null;
  const deadline = Date.now() + SETTLE_TIMEOUT_S * 1000;
  for (;;) {
    const poll = http.get(`${BASE_URL}/orders/${body.orderId}`, { headers: auth });
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
