/**
 * A filter applied to a reference's value, written after a pipe as in Jinja and Ansible:
 * `{{ annotations.summary | default("no summary given") }}`, `{{ labels.instance | host }}`. The `{{ }}` of
 * playbooks already read like Jinja, and `| default(...)` is what Ansible users write; filters chain left to right.
 */
export type TemplateFilter = { name: 'default'; text: string } | { name: 'host' };

/** How each filter is written, for messages. */
export const filterSyntax: Readonly<Record<TemplateFilter['name'], string>> = {
  default: 'default("text")',
  host: 'host',
};

/**
 * The host of an address: `host:port` → `host`, `[2001:db8::1]:port` and `[2001:db8::1]` → `2001:db8::1`, a bare
 * host or IPv6 address (two colons or more, no brackets) as it is. Prometheus's `instance` label is `host:port`,
 * which ssh or an inventory cannot take as a host name.
 */
export function hostOf(address: string): string {
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    return close < 0 ? address : address.slice(1, close);
  }
  const colon = address.indexOf(':');
  return colon >= 0 && address.indexOf(':', colon + 1) < 0 ? address.slice(0, colon) : address;
}

/**
 * Applies one filter; `undefined` is a value the alert does not have. `default` also replaces an empty value:
 * Prometheus treats an empty label as an absent one, and an empty summary says no more than a missing one.
 */
export function applyFilter(value: string | undefined, filter: TemplateFilter): string | undefined {
  if (filter.name === 'default') return value === undefined || value === '' ? filter.text : value;
  return value === undefined ? undefined : hostOf(value);
}
