/**
 * Country of an IP address, from the MaxMind-format GeoLite2 country database that ships in
 * the @ip-location-db/geolite2-country-mmdb npm package (nothing downloads at run time).
 * Private, loopback and link-local addresses have no country: callers decide what that means.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Reader, type Response } from 'maxmind';

interface CountryRecord {
  country_code?: string;
}

let reader: Reader<Response> | undefined;

function db(path?: string): Reader<Response> {
  if (path) return new Reader<Response>(readFileSync(path));
  if (!reader) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@ip-location-db/geolite2-country-mmdb/geolite2-country.mmdb');
    reader = new Reader<Response>(readFileSync(file));
  }
  return reader;
}

export interface GeoLookup {
  /** ISO 3166-1 alpha-2 country of a public address, or undefined (private, unknown, invalid). */
  country(ip: string): string | undefined;
}

/** The bundled database, or a MaxMind-format country database at `path`. */
export function geoLookup(path?: string): GeoLookup {
  const r = db(path);
  return {
    country(ip: string): string | undefined {
      const addr = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
      if (isIP(addr) === 0) return undefined;
      const rec = r.get(addr) as CountryRecord | null;
      return rec?.country_code?.toUpperCase();
    },
  };
}
