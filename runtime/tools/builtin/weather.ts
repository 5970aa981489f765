// weather:get: current conditions from Open-Meteo (no key needed). The forecast endpoint is a
// setting; a city is looked up with Open-Meteo's geocoding API first. When the host cannot be
// reached the error says so plainly, since "fetch failed" tells an agent nothing.
import { ToolError } from '../errors';
import type { ToolContext, ToolDefinition, ToolHandler } from '../types';

const OFFICIAL_FORECAST_HOST = 'api.open-meteo.com';
const OFFICIAL_GEOCODING = 'https://geocoding-api.open-meteo.com/v1/search';

const WMO: Record<number, string> = {
  0: 'clear sky', 1: 'mainly clear', 2: 'partly cloudy', 3: 'overcast', 45: 'fog', 48: 'depositing rime fog',
  51: 'light drizzle', 53: 'drizzle', 55: 'dense drizzle', 56: 'light freezing drizzle', 57: 'freezing drizzle',
  61: 'light rain', 63: 'rain', 65: 'heavy rain', 66: 'light freezing rain', 67: 'freezing rain',
  71: 'light snow', 73: 'snow', 75: 'heavy snow', 77: 'snow grains', 80: 'light rain showers', 81: 'rain showers',
  82: 'violent rain showers', 85: 'snow showers', 86: 'heavy snow showers', 95: 'thunderstorm', 96: 'thunderstorm with hail', 99: 'thunderstorm with heavy hail',
};

export const weatherDefinition: Omit<ToolDefinition, 'provider' | 'owner'> = {
  name: 'weather:get',
  description: 'Current weather from Open-Meteo, for latitude/longitude or a city name.',
  parametersSchema: {
    type: 'object',
    properties: {
      latitude: { type: 'number', minimum: -90, maximum: 90 },
      longitude: { type: 'number', minimum: -180, maximum: 180 },
      city: { type: 'string', minLength: 1 },
    },
    additionalProperties: false,
  },
};

interface WeatherArgs { latitude?: number; longitude?: number; city?: string }

/** Open-Meteo's geocoding API, or the same server as the forecast when the base URL points elsewhere (a mirror, a test stand-in). */
export function geocodingUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return url.hostname === OFFICIAL_FORECAST_HOST ? OFFICIAL_GEOCODING : new URL('/v1/search', url).toString();
}

export function weatherHandler(baseUrl: string): ToolHandler {
  return async (raw, ctx) => {
    const args = raw as WeatherArgs;
    const hasCoords = args.latitude !== undefined && args.longitude !== undefined;
    if (!hasCoords && (args.latitude !== undefined || args.longitude !== undefined)) {
      throw new ToolError('invalid_arguments', 'give both latitude and longitude (or a city)');
    }
    if (!hasCoords && !args.city) throw new ToolError('invalid_arguments', 'give latitude and longitude, or a city');

    let place: { name?: string; country?: string; latitude: number; longitude: number };
    if (hasCoords) place = { latitude: args.latitude!, longitude: args.longitude! };
    else {
      const search = new URL(geocodingUrl(baseUrl));
      search.searchParams.set('name', args.city!);
      search.searchParams.set('count', '1');
      const found = (await getJson(search, ctx)) as { results?: Array<{ name: string; country?: string; latitude: number; longitude: number }> };
      const first = found.results?.[0];
      if (!first) throw new ToolError('failed', `no place named ${JSON.stringify(args.city)} was found`, { city: args.city! });
      place = { name: first.name, country: first.country, latitude: first.latitude, longitude: first.longitude };
    }

    const url = new URL(baseUrl);
    url.searchParams.set('latitude', String(place.latitude));
    url.searchParams.set('longitude', String(place.longitude));
    url.searchParams.set('current', 'temperature_2m,relative_humidity_2m,apparent_temperature,precipitation,weather_code,wind_speed_10m');
    url.searchParams.set('timezone', 'auto');
    const body = (await getJson(url, ctx)) as { latitude?: number; longitude?: number; timezone?: string; current?: Record<string, number | string>; current_units?: Record<string, string> };
    if (!body.current) throw new ToolError('failed', `unexpected answer from ${url.host}: no "current" block`);
    const code = Number(body.current.weather_code);
    return {
      location: { ...(place.name ? { name: place.name } : {}), ...(place.country ? { country: place.country } : {}), latitude: body.latitude ?? place.latitude, longitude: body.longitude ?? place.longitude, timezone: body.timezone },
      current: body.current,
      units: body.current_units ?? {},
      description: WMO[code] ?? `weather code ${body.current.weather_code}`,
    };
  };
}

async function getJson(url: URL, ctx: ToolContext): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: ctx.signal, headers: { accept: 'application/json' } });
  } catch (err) {
    if (ctx.signal.aborted) throw new ToolError('timeout', `request to ${url.host} was stopped (the call timed out or was cancelled)`);
    const code = errnoOf(err);
    throw new ToolError('unavailable', `cannot reach ${url.host}: no network?${code ? ` (${code})` : ''}`, { host: url.host, ...(code ? { errno: code } : {}) });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ToolError('failed', `${url.host} answered ${response.status} with something that is not JSON`, { status: String(response.status) });
  }
  if (!response.ok) {
    const reason = (body as { reason?: string }).reason;
    throw new ToolError('failed', `${url.host} answered ${response.status}${reason ? `: ${reason}` : ''}`, { status: String(response.status) });
  }
  return body;
}

function errnoOf(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
}
