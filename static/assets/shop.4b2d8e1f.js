// The storefront's first page: the first products of the catalog, read through the same API
// CloudFront forwards to the load balancer (/api/*). Asset names carry a content tag, so they are
// cached for a year; index.html is revalidated on every visit.
const list = document.getElementById('products');
const price = (cents, currency) => new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
try {
  const res = await fetch('/api/catalog/products?limit=20');
  if (!res.ok) throw new Error(`the catalog answered ${res.status}`);
  const { items } = await res.json();
  list.replaceChildren(...items.map((p) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = p.name;
    const cost = document.createElement('span');
    cost.textContent = price(p.priceCents, p.currency);
    li.append(name, cost);
    return li;
  }));
} catch (err) {
  list.textContent = `The shop is not answering: ${err.message}`;
}
