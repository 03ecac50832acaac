// seed.mjs: sets up the shop the jsforce test buys from, through the REST API
// with the admin key, as tests/api/harness.c ckt_shop_setup and ckt_product do:
// a store (test gateway), a shipping method (1000 + 100/kg), a US tax rate of
// 825 bp, a buyer account that is a member of the store, a buyer user given
// that account, and a 1999 product of 500 g.
// Usage: node seed.mjs (CKT_BASE, CKT_ADMIN_KEY in the environment). Prints one
// JSON object {storeId, shippingMethodId, accountId, buyerId, buyerKey,
// productId} on stdout; any answer other than 201 exits 1 with the request and
// the answer on stderr.

const BASE = process.env.CKT_BASE;
const ADMIN = process.env.CKT_ADMIN_KEY;
if (!BASE || !ADMIN) {
  console.error('seed.mjs: CKT_BASE and CKT_ADMIN_KEY are required');
  process.exit(2);
}

// POST path with body as the admin; returns the parsed 201 answer.
async function post(path, body) {
  const res = await fetch(BASE + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) {
    console.error(`seed.mjs: POST ${path} ${JSON.stringify(body)} answered ${res.status}: ${text}`);
    process.exit(1);
  }
  return JSON.parse(text);
}

const store = await post('/v1/stores', {
  name: 'jsforce Store', currency: 'USD', slaSeconds: 900,
  staleAuthorizationSeconds: 86400, embargoedCountries: ['KP'],
});
const shm = await post(`/v1/stores/${store.id}/shipping-methods`, { name: 'Ground', flatFee: 1000, perKgFee: 100 });
await post(`/v1/stores/${store.id}/tax-rates`, { country: 'US', rateBasisPoints: 825 });
const acct = await post('/v1/accounts', {
  name: 'Acme', isBuyer: true, creditLimit: 100000, prepaidBalance: 0, hazmatApproved: false, country: 'US',
});
await post(`/v1/stores/${store.id}/members`, { accountId: acct.id });
const user = await post('/v1/users', { name: 'jsforce Buyer', email: 'buyer@example.com', permissions: ['buyer'] });
await post(`/v1/users/${user.id}/accounts`, { accountId: acct.id });
const prod = await post(`/v1/stores/${store.id}/products`, {
  sku: 'JSF-WIDGET', name: 'Widget', unitPrice: 1999, stock: 100, minQuantity: 1, priceTiers: [],
  hazmat: false, exportControlled: false, weightGrams: 500, active: true,
});

process.stdout.write(JSON.stringify({
  storeId: store.id, shippingMethodId: shm.id, accountId: acct.id,
  buyerId: user.id, buyerKey: user.apiKey, productId: prod.id,
}) + '\n');
