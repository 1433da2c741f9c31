// The API as the console uses it: every call carries the key as a bearer header, and every
// error arrives as the API's {error: {code, message}}.
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class API {
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers() };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!response.ok) {
      const error = json && json.error ? json.error : { code: 'http_error', message: `HTTP ${response.status}` };
      throw new APIError(response.status, error.code, error.message);
    }
    return json;
  }

  get(path) { return this.request('GET', path); }
  post(path, body) { return this.request('POST', path, body); }

  // An image as an object URL: <img src> cannot send a bearer header, so the bytes are fetched.
  async imageURL(path) {
    const response = await fetch(path, { headers: this.headers() });
    if (!response.ok) throw new APIError(response.status, 'image_unavailable', `the image answered HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  }

  // A task's event stream, read with fetch rather than EventSource, which cannot send the key
  // as a header (and a key in the URL would end up in logs). Calls onStatus with each task.
  // Calls onStatus with the task at each status or progress event, and onDraft with each
  // draft of its image (a partial_image event) while the provider draws it.
  async follow(taskID, onStatus, signal, onDraft = () => {}) {
    const response = await fetch(`/images/tasks/${encodeURIComponent(taskID)}/events`, {
      headers: this.headers({ Accept: 'text/event-stream' }), signal,
    });
    if (!response.ok || !response.body) throw new APIError(response.status, 'stream_refused', `the event stream answered HTTP ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (!data.length) continue;
        if (event === 'status' || event === 'progress') onStatus(JSON.parse(data.join('\n')));
        else if (event === 'partial_image') onDraft(JSON.parse(data.join('\n')));
      }
    }
  }
}
