// The prompt form: options from the model catalog, the price and whether it fits the
// limits before submitting, and each submitted task's live status from its event stream.
import { APIError } from './api.js';
import { $, el, clear, statusText } from './dom.js';

const cancelable = new Set(['queued', 'running', 'retrying']);

export class CreateView {
  constructor(api) {
    this.api = api;
    this.catalog = null;
    this.estimateTimer = null;
    this.streams = [];
    const form = $('create-form');
    form.addEventListener('submit', (event) => { event.preventDefault(); this.submit(); });
    $('model').addEventListener('change', () => { this.fillOptions(); this.estimateSoon(); });
    for (const id of ['size', 'quality', 'style', 'n', 'prompt', 'output-format', 'background', 'moderation', 'drafts']) {
      $(id).addEventListener('input', () => this.estimateSoon());
    }
  }

  async show() {
    if (this.catalog) return;
    try {
      this.catalog = await this.api.get('/images/models');
    } catch (error) {
      $('create-error').textContent = `Cannot load the models: ${error.message}`;
      return;
    }
    const models = clear($('model'));
    for (const model of this.catalog.models) {
      models.append(el('option', { value: model.name, selected: model.name === this.catalog.default_model }, model.name));
    }
    this.fillOptions();
    this.estimateSoon();
  }

  get model() {
    return this.catalog?.models.find((model) => model.name === $('model').value);
  }

  fillOptions() {
    const model = this.model;
    if (!model) return;
    const fill = (id, values, chosen) => {
      const select = clear($(id));
      for (const value of values) select.append(el('option', { value, selected: value === chosen }, value));
    };
    fill('size', model.sizes, model.default_size);
    fill('quality', model.qualities, model.default_quality);
    fill('style', model.styles, model.styles[0]);
    $('style-field').hidden = model.styles.length === 0;
    // The gpt-image fields: offered only for models that take them; the first choice,
    // "default", leaves the field out so the provider's default applies.
    for (const [id, values] of [['output-format', model.output_formats], ['background', model.backgrounds], ['moderation', model.moderations]]) {
      fill(id, ['default', ...values], 'default');
      $(`${id}-field`).hidden = values.length === 0;
    }
    // Drafts stream for one image only, from models that draw them.
    fill('drafts', ['0', ...Array.from({ length: model.max_partial_images }, (_, index) => String(index + 1))], '0');
    $('drafts-field').hidden = model.max_partial_images === 0;
    $('n').max = model.max_images;
    if (Number($('n').value) > model.max_images) $('n').value = model.max_images;
    $('prompt').maxLength = model.max_prompt_characters;
  }

  request() {
    const model = this.model;
    // The price does not depend on the prompt: an empty box is estimated as a one-letter prompt.
    const body = {
      prompt: $('prompt').value || 'x',
      model: $('model').value,
      size: $('size').value,
      quality: $('quality').value,
      n: Number($('n').value) || 1,
    };
    if (model && model.styles.length) body.style = $('style').value;
    for (const [id, field] of [['output-format', 'output_format'], ['background', 'background'], ['moderation', 'moderation']]) {
      if (!$(`${id}-field`).hidden && $(id).value !== 'default') body[field] = $(id).value;
    }
    if (!$('drafts-field').hidden && $('drafts').value !== '0' && body.n === 1) body.partial_images = Number($('drafts').value);
    return body;
  }

  estimateSoon() {
    clearTimeout(this.estimateTimer);
    this.estimateTimer = setTimeout(() => this.estimate(), 250);
  }

  // The submit button says the price; a request that would pass a limit says which.
  async estimate() {
    const button = $('submit');
    try {
      const estimate = await this.api.post('/images/estimate', this.request());
      button.textContent = `Generate for $${estimate.cost_usd}`;
      $('estimate').textContent = estimate.fits_limits
        ? `Costs $${estimate.cost_usd}; fits your limits.`
        : `Costs $${estimate.cost_usd}; refused now: ${estimate.refused_by.message}`;
      $('estimate').classList.toggle('refused', !estimate.fits_limits);
    } catch (error) {
      button.textContent = 'Generate';
      $('estimate').textContent = error instanceof APIError ? error.message : '';
    }
  }

  async submit() {
    $('create-error').textContent = '';
    const body = this.request();
    if (!$('prompt').value.trim()) {
      $('create-error').textContent = 'Write a prompt first.';
      return;
    }
    try {
      const accepted = await this.api.post('/images/generate', body);
      this.track(accepted.task_id, body.prompt);
      this.estimateSoon();
    } catch (error) {
      $('create-error').textContent = error.message;
    }
  }

  // One list entry per task, kept current by the task's event stream until it ends.
  track(taskID, prompt) {
    const status = el('span', { class: 'status', 'data-testid': 'task-status', 'data-task-id': taskID }, 'queued');
    const cancel = el('button', { type: 'button', class: 'cancel', 'data-testid': 'cancel' }, 'Cancel');
    const images = el('div', { class: 'thumbs' });
    const item = el('li', { class: 'task', 'data-task-id': taskID },
      el('p', { class: 'prompt' }, prompt), el('p', {}, status, ' ', cancel), images);
    $('recent').prepend(item);
    cancel.addEventListener('click', async () => {
      cancel.disabled = true;
      try {
        this.render(await this.api.post(`/images/tasks/${taskID}/cancel`), status, cancel, images);
      } catch (error) {
        status.textContent = error.message;
      }
    });
    const controller = new AbortController();
    this.streams.push(controller);
    this.api.follow(taskID, (task) => this.render(task, status, cancel, images), controller.signal, (draft) => this.showDraft(draft, images))
      .catch((error) => { if (error.name !== 'AbortError') status.textContent = `status unavailable: ${error.message}`; });
  }

  // The provider's latest draft stands in for the image until the task ends.
  showDraft(draft, images) {
    if (images.querySelector('img:not(.draft)')) return;
    const bytes = Uint8Array.from(atob(draft.b64_json), (char) => char.charCodeAt(0));
    const img = el('img', { alt: `draft ${draft.partial_image_index + 1}`, class: 'thumb draft', 'data-testid': 'draft' });
    img.src = URL.createObjectURL(new Blob([bytes], { type: draft.media_type }));
    clear(images).append(img);
  }

  async render(task, status, cancel, images) {
    status.textContent = statusText(task);
    status.dataset.status = task.status;
    cancel.hidden = !cancelable.has(task.status) || task.cancel_requested;
    if (task.status !== 'running') images.querySelector('img.draft')?.remove();
    if (task.status === 'succeeded' && task.image_urls && !images.childElementCount) {
      for (const url of task.image_urls) {
        const img = el('img', { alt: task.prompt, class: 'thumb' });
        images.append(img);
        img.src = await this.api.imageURL(url);
      }
    }
  }
}
