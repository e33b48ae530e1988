// Bearer tokens for the k6 scripts (docs/security.md): given directly, or fetched from an OIDC
// token endpoint (compose: Keycloak) in setup().
//   TOKEN            a customer's token (local stack: deploy/local/ordersctl token --role customer --user k6 --ttl 1h)
//   DECLINE_TOKEN    a customer whose id starts with "decline" (payment declines them)
//   SELLER_TOKEN     a seller's token
//   TOKEN_URL        or: the token endpoint; USERNAME/PASSWORD with CLIENT_ID (password grant) for the
//                    customer, SELLER_CLIENT_ID/SELLER_CLIENT_SECRET (client credentials) for the seller

import http from 'k6/http';
import { fail } from 'k6';

const TOKEN_URL = __ENV.TOKEN_URL || '';

export function tokensFromEnv() {
  const tokens = {
    customer: __ENV.TOKEN || (TOKEN_URL && __ENV.USERNAME
      ? fetchToken({ grant_type: 'password', client_id: __ENV.CLIENT_ID || 'orderstream-dashboard', username: __ENV.USERNAME, password: __ENV.PASSWORD || '' })
      : ''),
    decline: __ENV.DECLINE_TOKEN || '',
    seller: __ENV.SELLER_TOKEN || (TOKEN_URL && __ENV.SELLER_CLIENT_ID
      ? fetchToken({ grant_type: 'client_credentials', client_id: __ENV.SELLER_CLIENT_ID, client_secret: __ENV.SELLER_CLIENT_SECRET || '' })
      : ''),
  };
  if (!tokens.customer) fail('no customer token: set TOKEN, or TOKEN_URL with USERNAME and PASSWORD (docs/security.md)');
  return tokens;
}

// A token from the identity provider's token endpoint (form-encoded, as OAuth wants it).
function fetchToken(form) {
  const res = http.post(TOKEN_URL, form, { tags: { name: 'POST token' } });
  const body = json(res);
  if (res.status !== 200 || !body || !body.access_token) fail(`no token from ${TOKEN_URL} (${form.grant_type}): ${res.status} ${res.body}`);
  return body.access_token;
}

export function json(res) {
  try {
    return res.json();
  } catch (_) {
    return null;
  }
}
