// The service worker keeps the pages and form definitions on the device, so
// an SCT that is open keeps working with no signal. Answers themselves are
// kept by the page (IndexedDB) and sent when the connection returns.

const CACHE = 'sct-pages-v27';
const PAGES = ['/', '/app.css', '/js/main.js', '/js/api.js', '/js/outbox.js', '/js/ui.js', '/js/i18n.js', '/js/sct.js', '/js/paper.js', '/js/formview.js', '/js/review.js', '/js/dashboard.js',
  '/js/map.js', '/js/mapwords.js', '/js/mapview.js', '/js/setup.js', '/i18n/en.json', '/i18n/cy.json', '/i18n/ar.json'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(PAGES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Network first, so a new release arrives at once; the kept copy when the
// network fails or is too slow to wait for.
async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const res = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('slow')), 4000)),
    ]);
    if (res.ok) cache.put(request, res.clone());
    return res;
  } catch (err) {
    // A page is the same whatever its query; a form definition is not: its
    // ?lang= names the language it is in.
    const api = new URL(request.url).pathname.startsWith('/api/');
    const kept = await cache.match(request, { ignoreSearch: !api });
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/api/') && !url.pathname.startsWith('/api/v1/forms')) return;
  e.respondWith(networkFirst(e.request));
});
