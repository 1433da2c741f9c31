// Today's and this month's spend, reservations and limits, and spend per day as a chart.
import { $, el, clear, when } from './dom.js';
import { barChart } from './chart.js';

export class UsageView {
  constructor(api) {
    this.api = api;
  }

  async show() {
    $('usage-error').textContent = '';
    let usage, daily;
    try {
      [usage, daily] = await Promise.all([this.api.get('/me/usage'), this.api.get('/me/usage/days?days=30')]);
    } catch (error) {
      $('usage-error').textContent = error.message;
      return;
    }
    const cards = clear($('usage-periods'));
    const spend = (title, period) => el('div', { class: 'card-number', 'data-testid': `usage-${title.toLowerCase()}` },
      el('h3', {}, title),
      el('p', { class: 'big' }, `$${period.spent_usd}`),
      el('p', {}, `reserved $${period.reserved_usd}`),
      el('p', {}, period.limit_usd === null ? 'no limit' : `limit $${period.limit_usd}, $${period.remaining_usd} left`),
      el('p', { class: 'meta' }, `resets ${when(period.resets_at)}`));
    const images = (title, period) => el('div', { class: 'card-number' },
      el('h3', {}, title),
      el('p', { class: 'big' }, String(period.used)),
      el('p', {}, period.limit === null ? 'no limit' : `limit ${period.limit}, ${period.remaining} left`));
    cards.append(spend('Today', usage.day), spend('Month', usage.month),
      images('Images this hour', usage.images.hour), images('Images today', usage.images.day));
    barChart($('usage-chart'), daily.days.map((day) => ({
      label: day.day, value: day.spent_micro_usd + day.reserved_micro_usd,
      title: `$${day.spent_usd} spent, $${day.reserved_usd} reserved`,
    })), `spend per day in ${daily.time_zone}`);
  }
}
