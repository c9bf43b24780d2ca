const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why `name` is not a host name fwgen will put in a rule, or undefined when it is. The one
 * place that says what a name is: labels of 1-63 lowercase letters, digits and inner
 * hyphens, at most 253 characters in all, and at most one leading "*." for a wildcard.
 * Every output format trusts this (dnsmasq's / and #, pfSense's space-separated lists).
 */
export function hostNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 253) return `it is ${name.length} characters long; a DNS name has at most 253`;
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  if (bare.includes('*')) return `'*' may only start a wildcard name as "*."`;
  if (bare.endsWith('.')) return 'it ends with a dot; write names without the root dot';
  const labels = bare.split('.');
  for (const label of labels) {
    if (label === '') return 'it has an empty label (two dots in a row, or a leading dot)';
    if (label.length > 63) return `its label '${label.slice(0, 20)}...' is ${label.length} characters long; a label has at most 63`;
    if (/[A-Z]/.test(label)) return `its label '${label}' has upper-case letters; write names in lower case`;
    if (!LABEL.test(label)) {
      const bad = /[^a-z0-9-]/.exec(label);
      return bad
        ? `its label '${label}' holds ${JSON.stringify(bad[0])}; labels hold only letters, digits and hyphens`
        : `its label '${label}' starts or ends with a hyphen`;
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'its last label is a number, so it reads as an address; put addresses under addresses';
  return undefined;
}
