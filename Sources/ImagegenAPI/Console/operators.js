// The operator view, for admin keys: queue depths and their recent history, what is
// retrying and failing, the provider's breaker and keys, the dead-letter list with retry,
// retrying tasks with cancel, and spend per user. Refreshed every 5 s while shown.
import { $, el, clear, when } from './dom.js';
import { lineChart } from './chart.js';

const refreshMilliseconds = 5000;

export class OperatorsView {
  // admin: what GET /me said of the key. The server checks every /admin call itself; this
  // only spares an ordinary key requests that would be refused.
  constructor(api, admin) {
    this.api = api;
    this.admin = admin;
    this.timer = null;
  }

  async show() {
    clearInterval(this.timer);
    if (!this.admin) {
      $('operators-content').hidden = true;
      $('operators-error').textContent = 'The operator view needs an admin key (imagegen admin keys create --admin).';
      return;
    }
    await this.refresh();
    this.timer = setInterval(() => this.refresh(), refreshMilliseconds);
  }

  hide() {
    clearInterval(this.timer);
  }

  async refresh() {
    let overview, failed, retrying, report;
    try {
      [overview, failed, retrying, report] = await Promise.all([
        this.api.get('/admin/queue'),
        this.api.get('/admin/tasks?status=failed&limit=50'),
        this.api.get('/admin/tasks?status=retrying&limit=50'),
        this.api.get('/admin/cost-report'),
      ]);
    } catch (error) {
      this.hide();
      $('operators-content').hidden = true;
      $('operators-error').textContent = error.message;
      return;
    }
    $('operators-error').textContent = '';
    $('operators-content').hidden = false;
    this.numbers(overview);
    lineChart($('queue-chart'), [
      { name: 'ready', values: overview.history.map((sample) => sample.ready) },
      { name: 'delayed', values: overview.history.map((sample) => sample.delayed) },
      { name: 'in flight', values: overview.history.map((sample) => sample.in_flight) },
    ], `queue ${overview.queue} over the last minutes`);
    rows($('problems'), overview.problems, (problem) => [problem.status, problem.code, String(problem.count)]);
    const provider = overview.provider;
    $('breaker').textContent = `Circuit breaker ${provider.breaker}${provider.breaker === 'open' ? ` for ${provider.open_seconds} s more` : ''}; `
      + `opened ${provider.times_opened} times; ${provider.failures} recent failures.`;
    rows($('provider-keys'), provider.keys, (key) => [
      key.id, key.images_in_bucket === undefined ? '-' : String(key.images_in_bucket),
      key.aside_seconds > 0 ? `set aside (${key.aside_reason || ''}) for ${key.aside_seconds} s` : 'usable',
    ]);
    rows($('dead-letters'), failed.tasks, (task) => this.taskCells(task, 'Retry', 'retry'));
    rows($('retrying'), retrying.tasks, (task) => this.taskCells(task, 'Cancel', 'cancel'));
    rows($('cost-report'), report.users, (user) => [
      user.name, String(user.tasks), String(user.images), user.spend_usd, String(user.failed_tasks), user.unsettled_usd,
    ]);
  }

  numbers(overview) {
    const unfinished = Object.fromEntries(overview.unfinished.map((count) => [count.status, count]));
    const card = (title, value, note) => el('div', { class: 'card-number' }, el('h3', {}, title), el('p', { class: 'big' }, String(value)),
      note ? el('p', { class: 'meta' }, note) : null);
    clear($('queue-numbers')).append(
      card('Ready', overview.ready, overview.oldest_ready_seconds === undefined ? 'none waiting' : `oldest ${overview.oldest_ready_seconds} s`),
      card('In flight', overview.in_flight, `${overview.expired_leases} expired leases`),
      card('Delayed retries', overview.delayed),
      card('Running (PostgreSQL)', unfinished.running?.count ?? 0),
      card('Queued (PostgreSQL)', unfinished.queued?.count ?? 0),
      card('Retrying (PostgreSQL)', unfinished.retrying?.count ?? 0));
  }

  taskCells(task, label, action) {
    const button = el('button', { type: 'button', 'data-testid': `${action}-task` }, label);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await this.api.post(`/admin/tasks/${task.task_id}/${action}`);
      } catch (error) {
        $('operators-error').textContent = error.message;
      }
      await this.refresh();
    });
    return [task.task_id.slice(0, 8), task.user, task.model, String(task.attempts),
      task.error ? `${task.error.code}: ${task.error.message} (${when(task.updated_at)})` : '', button];
  }
}

function rows(table, items, cells) {
  const body = clear(table.tBodies[0]);
  if (!items.length) body.append(el('tr', {}, el('td', { colspan: table.tHead.rows[0].cells.length, class: 'empty' }, 'none')));
  for (const item of items) body.append(el('tr', {}, ...cells(item).map((cell) => el('td', {}, cell))));
}
