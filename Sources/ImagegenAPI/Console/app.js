// Signs in with an API key, switches between the views and hands each view the API.
import { API, APIError } from './api.js';
import { $ } from './dom.js';
import { CreateView } from './create.js';
import { GalleryView } from './gallery.js';
import { UsageView } from './usage.js';
import { OperatorsView } from './operators.js';

const storageKey = 'imagegen.apiKey';
let views = null;

async function signIn(key) {
  const api = new API(key);
  const me = await api.get('/me');
  sessionStorage.setItem(storageKey, key);
  views = {
    create: new CreateView(api),
    gallery: new GalleryView(api),
    usage: new UsageView(api),
    operators: new OperatorsView(api, me.admin),
  };
  $('sign-in-view').hidden = true;
  $('tabs').hidden = false;
  $('sign-out').hidden = false;
  $('operators-tab').hidden = !me.admin;
  $('signed-in-as').textContent = `${me.name}${me.admin ? ' (admin)' : ''}`;
  await show(location.hash.slice(1) || 'create');
}

function signOut() {
  sessionStorage.removeItem(storageKey);
  location.hash = '';
  location.reload();
}

async function show(name) {
  if (!views) return;
  if (!(name in views)) name = 'create';
  for (const [viewName, view] of Object.entries(views)) {
    const active = viewName === name;
    $(`${viewName}-view`).hidden = !active;
    document.querySelector(`#tabs a[data-view="${viewName}"]`).classList.toggle('active', active);
    if (!active) view.hide?.();
  }
  await views[name].show();
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('sign-in-error').textContent = '';
    try {
      await signIn($('api-key').value.trim());
    } catch (error) {
      $('sign-in-error').textContent = error instanceof APIError && error.status === 401
        ? 'That key is unknown or revoked.' : `Cannot sign in: ${error.message}`;
    }
  });
  $('sign-out').addEventListener('click', signOut);
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  $('viewer-close').addEventListener('click', () => $('viewer').close());
  const saved = sessionStorage.getItem(storageKey);
  if (saved) signIn(saved).catch(() => sessionStorage.removeItem(storageKey));
});
