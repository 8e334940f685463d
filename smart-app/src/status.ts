/** The one status line (role=status): what the app is doing, or what went wrong and what to do. */
export type StatusState = 'busy' | 'ready' | 'error';

export function setStatus(text: string, state: StatusState): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = text;
  status.dataset.state = state;
  status.hidden = state === 'ready' && text === '';
}
