// The key's tasks newest first, a page at a time (the API's cursors), as thumbnails with
// their prompt, status, cost and time; an image opens full size with a download link.
import { $, el, clear, when, statusText } from './dom.js';

const pageSize = 12;

export class GalleryView {
  constructor(api) {
    this.api = api;
    this.next = null;
    $('gallery-status').addEventListener('change', () => this.load(null));
    $('gallery-first').addEventListener('click', () => this.load(null));
    $('gallery-next').addEventListener('click', () => { if (this.next) this.load(this.next); });
  }

  show() {
    return this.load(null);
  }

  async load(cursor) {
    $('gallery-error').textContent = '';
    const query = new URLSearchParams({ limit: String(pageSize) });
    if ($('gallery-status').value) query.set('status', $('gallery-status').value);
    if (cursor) query.set('cursor', cursor);
    let page;
    try {
      page = await this.api.get(`/images/tasks?${query}`);
    } catch (error) {
      $('gallery-error').textContent = error.message;
      return;
    }
    this.next = page.next_cursor;
    $('gallery-next').disabled = !this.next;
    const gallery = clear($('gallery'));
    if (!page.tasks.length) gallery.append(el('li', { class: 'empty' }, 'No tasks here.'));
    for (const task of page.tasks) gallery.append(this.card(task));
  }

  card(task) {
    const thumbs = el('div', { class: 'thumbs' });
    const card = el('li', { class: 'card', 'data-task-id': task.task_id },
      thumbs,
      el('p', { class: 'prompt' }, task.prompt),
      el('p', { class: 'meta' },
        el('span', { class: 'status', 'data-testid': 'task-status', 'data-status': task.status }, statusText(task)),
        task.cost_usd ? ` · $${task.cost_usd}` : '',
        ` · ${when(task.created_at)}`));
    for (const [position, url] of (task.image_urls || []).entries()) {
      const img = el('img', { class: 'thumb', alt: task.prompt, 'data-position': position });
      thumbs.append(img);
      this.api.imageURL(url).then((src) => {
        img.src = src;
        img.addEventListener('click', () => this.open(src, task, position));
      }).catch(() => img.replaceWith(el('span', { class: 'missing' }, 'image unavailable')));
    }
    return card;
  }

  open(src, task, position) {
    $('viewer-image').src = src;
    $('viewer-image').alt = task.prompt;
    $('viewer-prompt').textContent = task.prompt;
    $('viewer-download').href = src;
    $('viewer-download').download = `${task.task_id}-${position}`;
    $('viewer').showModal();
  }
}
