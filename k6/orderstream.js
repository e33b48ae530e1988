// OrderStream load test: orders at a ramping arrival rate, each polled until it settles.
//
//   k6 run -e BASE_URL=http://localhost:5080 -e RATE=100 -e DURATION=2m k6/orderstream.js
//   docker compose --profile load run --rm k6          (RATE, DURATION, ... from the environment)
//
// Parameters (environment variables, all optional):
//   BASE_URL         gateway base URL                                      http://localhost:5080
//   RATE             peak orders per second                                 50
//   START_RATE       orders per second at the start                         1
//   RAMP             ramp-up time, and ramp-down time                       30s
//   DURATION         time held at RATE                                      2m
//   PRE_VUS, MAX_VUS VUs; each VU holds one order until it settles          RATE*2, RATE*10
//   SETTLE_TIMEOUT   seconds an order may take to settle                    30
//   FIRST_POLL_MS    wait before the first GET; later polls honour the      250
//                    Retry-After of each 202
//   SKUS             orders draw lines from SKU-001..SKU-<SKUS>             10
//   DECLINE_SHARE    share of orders placed as the DECLINE_TOKEN customer    0
//                    (a "decline-*" user, whom payment always declines: exercises compensation)
//   INVENTORY_URL    inventory base URL; with RESTOCK > 0, setup() puts      (none)
//   RESTOCK          RESTOCK units of every SKU in before the run           0
//
// Tokens (k6/auth.js, docs/security.md): orders are placed and polled as one customer (TOKEN, or
// TOKEN_URL with USERNAME/PASSWORD), declined ones as DECLINE_TOKEN (needed when DECLINE_SHARE > 0),
// restocks as a seller (SELLER_TOKEN, or TOKEN_URL with SELLER_CLIENT_ID/SELLER_CLIENT_SECRET).
// A run longer than the tokens' lifetime (Keycloak's realm: 30 min) starts failing with 401s.
//   P95_POST_MS      threshold: p95 of POST /orders                         250
//   P95_SETTLE_MS    threshold: p95 of time to settle                       3000
//
// Time to settle runs from just before the POST to the GET that first answers 200, so
// its resolution is the polling interval (Retry-After, 1 s). order_saga_duration is the
// server's own figure: the view's updatedAt minus the order's createdAt.

import http from 'k6/http';
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { json, tokensFromEnv } from './auth.js';

const BASE_URL = (__ENV.BASE_URL || 'http://localhost:5080').replace(/\/+$/, '');
const RATE = num('RATE', 50);
const START_RATE = num('START_RATE', 1);
const RAMP = __ENV.RAMP || '30s';
const DURATION = __ENV.DURATION || '2m';
const PRE_VUS = num('PRE_VUS', Math.max(10, RATE * 2));
const MAX_VUS = num('MAX_VUS', Math.max(50, RATE * 10));
const SETTLE_TIMEOUT_S = num('SETTLE_TIMEOUT', 30);
const FIRST_POLL_MS = num('FIRST_POLL_MS', 250);
const SKU_COUNT = num('SKUS', 10);
const DECLINE_SHARE = num('DECLINE_SHARE', 0);
const INVENTORY_URL = (__ENV.INVENTORY_URL || '').replace(/\/+$/, '');
const RESTOCK = num('RESTOCK', 0);

const KNOWN_REASONS = ['OUT_OF_STOCK', 'UNKNOWN_SKU', 'PAYMENT_DECLINED'];
const SKUS = Array.from({ length: SKU_COUNT }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
const RUN_ID = Date.now().toString(36);

const timeToSettle = new Trend('order_time_to_settle', true);
const sagaDuration = new Trend('order_saga_duration', true);
const settled = new Rate('order_settled');
const confirmed = new Counter('orders_confirmed');
const failed = new Counter('orders_failed');

export const options = {
  scenarios: {
    orders: {
      executor: 'ramping-arrival-rate',
      startRate: START_RATE,
      timeUnit: '1s',
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
      stages: [
        { target: RATE, duration: RAMP },
        { target: RATE, duration: DURATION },
        { target: 0, duration: RAMP },
      ],
      gracefulStop: `${SETTLE_TIMEOUT_S + 5}s`,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:POST /orders}': [`p(95)<${num('P95_POST_MS', 250)}`],
    order_time_to_settle: [`p(95)<${num('P95_SETTLE_MS', 3000)}`],
    order_settled: ['rate>0.99'],
    checks: ['rate>0.99'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

export function setup() {
  const health = http.get(`${BASE_URL}/healthz`, { tags: { name: 'GET /healthz' } });
  if (health.status !== 200) fail(`gateway not healthy at ${BASE_URL}: ${health.status}`);
  const tokens = tokensFromEnv();
  if (DECLINE_SHARE > 0 && !tokens.decline) fail('DECLINE_SHARE > 0 needs DECLINE_TOKEN: a customer whose id starts with "decline"');
  if (INVENTORY_URL && RESTOCK > 0) {
    if (!tokens.seller) fail('RESTOCK needs a seller token: SELLER_TOKEN, or TOKEN_URL with SELLER_CLIENT_ID and SELLER_CLIENT_SECRET');
    for (const sku of SKUS) {
      const res = http.post(`${INVENTORY_URL}/inventory/${sku}/restock`, JSON.stringify({ quantity: RESTOCK }), {
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens.seller}` },
        tags: { name: 'POST /inventory/{sku}/restock' },
      });
      if (res.status !== 200) fail(`restock of ${sku} failed: ${res.status} ${res.body}`);
    }
  }
  return tokens;
}

export default function (tokens) {
  const decline = Math.random() < DECLINE_SHARE;
  // The gateway takes the order's user from the token: a declined order is one of the decline customer.
  const auth = `Bearer ${decline ? tokens.decline : tokens.customer}`;
  const order = makeOrder();
  const started = Date.now();
  const res = http.post(`${BASE_URL}/orders`, JSON.stringify(order), {
    headers: {
      'Content-Type': 'application/json',
      Authorization: auth,
      'Idempotency-Key': `${RUN_ID}-${exec.scenario.iterationInTest}`,
    },
    tags: { name: 'POST /orders' },
  });
  const body = json(res);
  const accepted = check(res, {
    'POST /orders is 202': (r) => r.status === 202,
    'POST /orders returns an order id and PENDING': () => !!body && typeof body.orderId === 'string' && body.status === 'PENDING',
    'POST /orders sets Location': (r) => !!body && String(r.headers['Location'] || '').endsWith(`/orders/${body.orderId}`),
  });
  if (!accepted) return;

  const final = pollUntilSettled(body.orderId, started, auth);
  settled.add(final !== null && final.status === 200);
  if (final === null) return;
  if (final.status === 200) timeToSettle.add(Date.now() - started);

  const view = json(final);
  const ok = check(final, {
    'order settles with 200': (r) => r.status === 200,
    'final status is CONFIRMED or FAILED with a known reason': () =>
      !!view && (view.status === 'CONFIRMED' || (view.status === 'FAILED' && KNOWN_REASONS.includes(view.reason))),
    'final view is the order placed': () =>
      !!view && view.orderId === body.orderId && Array.isArray(view.items) && view.items.length === order.items.length,
  });
  if (!ok || !view) return;

  if (view.status === 'CONFIRMED') confirmed.add(1);
  else failed.add(1, { reason: view.reason });
  const saga = Date.parse(view.updatedAt) - Date.parse(view.createdAt);
  if (Number.isFinite(saga) && saga >= 0) sagaDuration.add(saga);
}

// Polls GET /orders/{id} while it answers 202, sleeping for its Retry-After. Returns the
// first non-202 response, or null when the order has not settled within SETTLE_TIMEOUT.
function pollUntilSettled(orderId, started, auth) {
  const deadline = started + SETTLE_TIMEOUT_S * 1000;
  sleep(FIRST_POLL_MS / 1000);
  for (;;) {
    const res = http.get(`${BASE_URL}/orders/${orderId}`, { headers: { Authorization: auth }, tags: { name: 'GET /orders/{id}' } });
    if (res.status !== 202) return res;
    const wait = retryAfterSeconds(res);
    if (Date.now() + wait * 1000 > deadline) return null;
    sleep(wait);
  }
}

function retryAfterSeconds(res) {
  const value = Number(res.headers['Retry-After']);
  return Number.isFinite(value) && value >= 0 ? value : 1;
}

// 1-3 distinct SKUs, 1-3 units each, prices in whole cents; amount computed in cents so
// it equals the server's decimal sum exactly. The gateway still validates price and amount
// but ignores them: every order is charged the catalogue's prices (GET /products).
function makeOrder() {
  const lines = 1 + randomInt(Math.min(3, SKUS.length));
  const skus = shuffle(SKUS.slice()).slice(0, lines);
  let amountCents = 0;
  const items = skus.map((sku) => {
    const qty = 1 + randomInt(3);
    const priceCents = 100 + randomInt(9900);
    amountCents += qty * priceCents;
    return { sku, qty, price: priceCents / 100 };
  });
  return { items, currency: 'EUR', amount: amountCents / 100 };
}

function randomInt(n) {
  return Math.floor(Math.random() * n);
}

function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function num(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got '${raw}'`);
  return value;
}
