// Times as the person chose to read them: in the browser's zone or in UTC (kept in this
// browser). Logs, the chart and the time inputs all follow the choice.

const ZONE = 'kaanha.timeZone';
export const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';

export const inUtc = () => localStorage.getItem(ZONE) === 'UTC';
export const chooseZone = (zone) => localStorage.setItem(ZONE, zone);
const zone = () => (inUtc() ? 'UTC' : undefined);

/** A time from the API, with its zone named. */
export const when = (iso) => (iso
  ? new Date(iso).toLocaleString([], {
    timeZone: zone(), year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
  })
  : '');

/** An hour of the chart. */
export const hourOf = (iso) => new Date(iso).toLocaleTimeString([], { timeZone: zone(), hour: '2-digit', minute: '2-digit' });

/** A `datetime-local` value for a time this many hours ago, in the chosen zone. */
export function inputValue(hoursAgo) {
  const at = new Date(Date.now() - hoursAgo * 3600e3);
  const offset = inUtc() ? 0 : at.getTimezoneOffset();
  return new Date(at.getTime() - offset * 60e3).toISOString().slice(0, 16);
}

/** A `datetime-local` value, read in the chosen zone, as RFC 3339; '' when empty. */
export function fromInput(value) {
  if (!value) return '';
  return (inUtc() ? new Date(`${value}Z`) : new Date(value)).toISOString();
}
