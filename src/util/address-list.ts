import { BlockList, isIP } from 'node:net';

/** A set of addresses and CIDR blocks, IPv4 and IPv6. */
export interface AddressList {
  has(address: string): boolean;
}

/** Parses one entry (`10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`); a message when it is neither. */
export function parseAddressEntry(entry: string): { success: true } | { success: false; message: string } {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return { success: false, message: `"${entry}" is not an address or a CIDR block` };
  if (prefix === undefined) return { success: true };
  const bits = Number(prefix);
  if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128))
    return { success: false, message: `"${entry}": bad prefix length /${prefix}` };
  return { success: true };
}

/** Builds the list from entries parseAddressEntry accepts. */
export function createAddressList(entries: readonly string[]): AddressList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    has(address) {
      // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
      const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
