// Builds elements with text set as text: nothing stored (prompts, errors, names) ever
// reaches the page as HTML.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

// Times as the browser's locale shows them; the API sends RFC 3339 UTC.
export function when(timestamp) {
  return timestamp ? new Date(timestamp).toLocaleString() : '';
}

export function statusText(task) {
  if (task.status === 'failed' && task.error) return `failed: ${task.error.message}`;
  if (task.status === 'retrying' && task.error) return `retrying (attempt ${task.attempts} of ${task.max_attempts}): ${task.error.message}`;
  if (task.cancel_requested) return `${task.status}, cancel requested`;
  const where = task.provider ? ` on ${task.provider}` : '';
  if (task.status === 'running' && task.progress) return `running${where}: ${task.progress}`;
  return task.status === 'running' || task.status === 'succeeded' ? `${task.status}${where}` : task.status;
}
