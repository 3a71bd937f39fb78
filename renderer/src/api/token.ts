const KEY = 'kizu.token';

/**
 * The web mode's per-run token: taken from the page URL's `token` query parameter (which is
 * then removed from the address bar so it is not bookmarked or shared), and kept in
 * sessionStorage so a reload of the tab still works.
 */
export function takeToken(location: Location, history: History, storage: Storage): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    storage.setItem(KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return storage.getItem(KEY);
}
