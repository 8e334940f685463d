/** Small DOM helpers: elements are built with textContent, never from HTML strings (no injection). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: (Node | string | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) if (child !== undefined && child !== false) element.append(child);
  return element;
}

/** An external link that opens in a new tab, so the EHR page is not lost. */
export function externalLink(label: string, url: string): HTMLElement {
  if (!/^https?:\/\//i.test(url)) return el('span', {}, label);
  return el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label, el('span', { class: 'visually-hidden' }, ' (opens in a new tab)'));
}
