// checkout.mjs: a whole checkout driven through checkoutd's Checkout Flow
// actions (API.md "Checkout Flow actions") with jsforce 3, the Salesforce
// client, changing only its instance URL and token, as issue 13 asks.
//
// jsforce talks to a recording proxy on 127.0.0.1 that forwards every request
// unchanged to the daemon and keeps its method and path, so the test also
// checks where jsforce sent each call: its relative form
// conn.requestPost('/actions/standard/NAME') must arrive as
// /services/data/v60.0/actions/standard/NAME (jsforce 3's Connection
// _normalizeUrl: a path not under /services/ goes below
// instanceUrl/services/data/v{version}). The cart and the session's inputs
// are set up with plain REST calls (fetch with the buyer's Bearer key).
//
// Usage: node checkout.mjs, under Node 22 (tests/jsforce/run.sh), with
// CKT_BASE (the daemon), CKT_ADMIN_KEY and CKT_SHOP (seed.mjs's JSON) in the
// environment. Exits 0 when every assertion held; an assertion that fails
// throws, and Node exits 1 with the assertion's message.

import assert from 'node:assert/strict';
import http from 'node:http';
import jsforce from 'jsforce';

const BASE = process.env.CKT_BASE;
const ADMIN = process.env.CKT_ADMIN_KEY;
const shop = JSON.parse(process.env.CKT_SHOP ?? 'null');
assert.ok(BASE && ADMIN && shop, 'CKT_BASE, CKT_ADMIN_KEY and CKT_SHOP are required');
const BUYER_KEY = shop.buyerKey;
const REF = '/services/data/v60.0';

const ACTIONS = [
  'checkoutSessionAction', 'cancelCartAsyncOperation', 'checkCartInventoryAction', 'priceCart',
  'calcCartPromotionsAction', 'calcCartShipmentAction', 'setCheckoutDeliveryMethod', 'calcCartTaxesAction',
  'authorizePaymentAction', 'cartToOrderAction', 'activateOrderAction', 'updateCheckoutSessionStateAction',
];

// The recording proxy: forwards method, path, headers and body to the daemon
// and its answer back; seen[] holds "METHOD /path" in arrival order.
const seen = [];
const target = new URL(BASE);
const proxy = http.createServer((req, res) => {
  seen.push(`${req.method} ${req.url}`);
  const up = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      ures.pipe(res);
    },
  );
  up.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${e.message}`);
  });
  req.pipe(up);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const PROXY = `http://127.0.0.1:${proxy.address().port}`;

// Plain REST straight to the daemon: returns {status, json}.
async function rest(method, path, body, key = BUYER_KEY) {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

async function restOk(method, path, body, want, key) {
  const r = await rest(method, path, body, key);
  assert.equal(r.status, want, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
  return r.json;
}

const conn = new jsforce.Connection({ instanceUrl: PROXY, accessToken: BUYER_KEY, version: '60.0' });

// Calls action NAME with one input through jsforce, in the relative form
// ('/actions/standard/NAME') or the full reference path; asserts the
// envelope of a success and returns its outputValues.
async function action(name, input, form) {
  const url = form === 'relative' ? `/actions/standard/${name}` : `${REF}/actions/standard/${name}`;
  const before = seen.length;
  const out = await conn.requestPost(url, { inputs: [input] });
  assert.deepEqual(seen.slice(before), [`POST ${REF}/actions/standard/${name}`], `where jsforce sent ${url}`);
  assert.ok(Array.isArray(out) && out.length === 1, `${name}: one result: ${JSON.stringify(out)}`);
  assert.equal(out[0].actionName, name);
  assert.equal(out[0].isSuccess, true, `${name}: ${JSON.stringify(out[0])}`);
  assert.deepEqual(out[0].errors, []);
  return out[0].outputValues;
}

// Calls action NAME expecting a failure: jsforce 3 throws on any status >= 400.
// The body is one action result, an array whose only element has no string
// 'message', so jsforce's HttpApiError is errorCode ERROR_HTTP_<status> with
// data.message the raw body. Returns that result.
async function actionFails(name, input, httpStatus) {
  let err;
  try {
    await conn.requestPost(`/actions/standard/${name}`, { inputs: [input] });
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${name} ${JSON.stringify(input)} should have failed`);
  assert.equal(err.errorCode, `ERROR_HTTP_${httpStatus}`, `${name}: ${err.stack}`);
  assert.equal(err.name, `ERROR_HTTP_${httpStatus}`);
  const body = JSON.parse(err.data.message);
  assert.ok(Array.isArray(body) && body.length === 1, err.data.message);
  assert.equal(body[0].actionName, name);
  assert.equal(body[0].isSuccess, false);
  assert.equal(body[0].outputValues, null);
  return body[0];
}

let checks = 0;
try {
  // The list and describe calls, through jsforce's generic request.
  const list = await conn.request({ method: 'GET', url: `${REF}/actions/standard` });
  assert.deepEqual(list.actions.map((a) => a.name).sort(), [...ACTIONS].sort());
  for (const a of list.actions) {
    assert.equal(a.type, 'STANDARD_INVOCABLE_ACTION', a.name);
    assert.equal(typeof a.label, 'string');
  }
  const desc = await conn.request({ method: 'GET', url: '/actions/standard/setCheckoutDeliveryMethod' });
  assert.equal(desc.name, 'setCheckoutDeliveryMethod');
  const inputs = Object.fromEntries(desc.inputs.map((p) => [p.name, p]));
  assert.equal(inputs.cartId?.required, true, JSON.stringify(desc.inputs));
  assert.equal(inputs.deliveryMethodId?.required, true, JSON.stringify(desc.inputs));
  const descSession = await conn.request(`${REF}/actions/standard/checkoutSessionAction`);
  assert.deepEqual(descSession.inputs.map((p) => p.name).sort(), ['cartId', 'initialState']);
  assert.deepEqual(descSession.outputs.map((p) => p.name), ['requestId']);
  checks += 3;

  // An action on a cart that does not exist: 500 INVALID_CART_ID.
  const unknown = await actionFails('checkCartInventoryAction', { cartId: 'cart_00000000000000000000000000' }, 500);
  assert.equal(unknown.errors[0].statusCode, 'UNKNOWN_EXCEPTION');
  assert.equal(unknown.errors[0].reason, 'INVALID_CART_ID');
  checks++;

  // The cart: 3 units of the 1999, 500 g product.
  const cart = await restOk('POST', `/v1/stores/${shop.storeId}/carts`, { accountId: shop.accountId }, 201);
  await restOk('POST', `/v1/carts/${cart.id}/items`, { productId: shop.productId, quantity: 3 }, 201);
  const cartId = cart.id;

  // A step action before the session action: 400 NO_CHECKOUT_SESSION.
  const early = await actionFails('checkCartInventoryAction', { cartId }, 400);
  assert.equal(early.errors[0].statusCode, 'BAD_REQUEST');
  assert.equal(early.errors[0].reason, 'NO_CHECKOUT_SESSION');
  checks++;

  // The reference flow's order, both URL forms in turn.
  await action('cancelCartAsyncOperation', { cartId }, 'relative');
  const started = await action('checkoutSessionAction', { cartId, initialState: 'Start' }, 'full');
  assert.match(started.requestId, /^req_/);
  const request = await restOk('GET', `/v1/requests/${started.requestId}`, undefined, 200);
  assert.equal(request.status, 'Succeeded');
  assert.match(request.sessionId, /^cs_/);
  const sessionId = request.sessionId;
  await restOk('PATCH', `/v1/checkouts/${sessionId}`, {
    shippingAddress: {
      name: 'Ada Buyer', street: '1 Main St', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US',
    },
    payment: { method: 'card', cardToken: 'tok_visa' },
  }, 200);

  await action('checkCartInventoryAction', { cartId }, 'relative');
  await action('priceCart', { cartId }, 'full');
  await action('calcCartPromotionsAction', { cartId }, 'relative');
  await action('calcCartShipmentAction', { cartId }, 'full');
  await action('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: shop.shippingMethodId }, 'relative');
  await action('calcCartTaxesAction', { cartId }, 'full');
  const auth = await action('authorizePaymentAction', { cartId }, 'relative');
  assert.match(auth.paymentAuthorizationId, /^pa_/);
  const placed = await action('cartToOrderAction', { cartId }, 'full');
  assert.match(placed.orderId, /^ord_/);
  const activated = await action('activateOrderAction', { cartId }, 'relative');
  assert.equal(activated.orderId, placed.orderId);
  assert.equal(activated.orderStatus, 'Activated');
  checks += 11;

  // The order: API.md's worked example, one authorization, the one above.
  const order = await restOk('GET', `/v1/orders/${placed.orderId}`, undefined, 200);
  assert.equal(order.status, 'Activated');
  assert.equal(order.cartId, cartId);
  assert.equal(order.sessionId, sessionId);
  assert.deepEqual(
    { ...order.totals },
    { subtotal: 5997, adjustments: 0, shipping: 1200, tax: 495, grandTotal: 7692 },
  );
  assert.equal(order.items.length, 1);
  assert.equal(order.items[0].quantity, 3);
  assert.equal(order.items[0].unitPrice, 1999);
  assert.equal(order.authorizations.length, 1, JSON.stringify(order.authorizations));
  assert.equal(order.authorizations[0].id, auth.paymentAuthorizationId);
  assert.equal(order.authorizations[0].amount, 7692);
  assert.equal(order.authorizations[0].status, 'Authorized');
  const holds = await restOk('GET', `/v1/authorizations?storeId=${shop.storeId}`, undefined, 200, ADMIN);
  assert.deepEqual(holds.items.map((a) => a.id), [auth.paymentAuthorizationId]);
  const orders = await restOk('GET', `/v1/orders?accountId=${shop.accountId}`, undefined, 200);
  assert.deepEqual(orders.items.map((o) => o.id), [placed.orderId]);
  const session = await restOk('GET', `/v1/checkouts/${sessionId}`, undefined, 200);
  assert.equal(session.state, 'Completed');
  assert.equal(session.orderId, placed.orderId);
  const closed = await restOk('GET', `/v1/carts/${cartId}`, undefined, 200);
  assert.equal(closed.status, 'Closed');
  checks += 5;

  // Every jsforce call went to the reference's path and nowhere else.
  for (const line of seen)
    assert.ok(line.split(' ')[1].startsWith(`${REF}/actions/standard`), `jsforce called ${line}`);
  assert.equal(seen.filter((l) => l.startsWith('POST ')).length, 13);
} finally {
  proxy.close();
  proxy.closeAllConnections();
}
console.log(`jsforce ${jsforce.VERSION} on Node ${process.version}: ${checks} checks passed`);
