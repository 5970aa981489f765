// weather:get: current conditions from Open-Meteo (no key needed). The forecast endpoint is a
// setting; a city is looked up with Open-Meteo's geocoding API first. The answer carries the
// reference's flat fields (location, temperature, conditions, humidity, wind_speed, units) beside
// Loom's (place, current, current_units, description), and the reference's argument `location`
// is taken as a city.
import { ToolError } from '../errors';
import type { ToolContext, ToolDefinition, ToolHandler } from '../types';
import { jsonBody, request } from './http';

const OFFICIAL_FORECAST_HOST = 'api.open-meteo.com';
const OFFICIAL_GEOCODING = 'https://geocoding-api.open-meteo.com/v1/search';

const WMO: Record<number, string> = {
  0: 'clear sky',
  1: 'mainly clear',
  2: 'partly cloudy',
  3: 'overcast',
  45: 'fog',
  48: 'depositing rime fog',
  51: 'light drizzle',
  53: 'drizzle',
  55: 'dense drizzle',
  56: 'light freezing drizzle',
  57: 'freezing drizzle',
  61: 'light rain',
  63: 'rain',
  65: 'heavy rain',
  66: 'light freezing rain',
  67: 'freezing rain',
  71: 'light snow',
  73: 'snow',
  75: 'heavy snow',
  77: 'snow grains',
  80: 'light rain showers',
  81: 'rain showers',
  82: 'violent rain showers',
  85: 'snow showers',
  86: 'heavy snow showers',
  95: 'thunderstorm',
  96: 'thunderstorm with hail',
  99: 'thunderstorm with heavy hail',
};

export const weatherDefinition: Omit<ToolDefinition, 'provider' | 'owner'> = {
  name: 'weather:get',
  description:
    'Current weather from Open-Meteo, for latitude/longitude or a city name (city, or location as the reference names it). ' +
    'Answers location, temperature (°C), conditions, humidity (%), wind_speed (km/h), units ("metric"), and place, current, current_units, description.',
  parametersSchema: {
    type: 'object',
    properties: {
      latitude: { type: 'number', minimum: -90, maximum: 90 },
      longitude: { type: 'number', minimum: -180, maximum: 180 },
      city: { type: 'string', minLength: 1 },
      location: {
        type: 'string',
        minLength: 1,
        description: "A city name (the reference's argument); the same as city.",
      },
    },
    additionalProperties: false,
  },
};

interface WeatherArgs {
  latitude?: number;
  longitude?: number;
  city?: string;
  location?: string;
}

/** Open-Meteo's geocoding API, or the same server as the forecast when the base URL points elsewhere (a mirror, a test stand-in). */
export function geocodingUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return url.hostname === OFFICIAL_FORECAST_HOST ? OFFICIAL_GEOCODING : new URL('/v1/search', url).toString();
}

export function weatherHandler(baseUrl: string): ToolHandler {
  return async (raw, ctx) => {
    const args = raw as WeatherArgs;
    if (args.city !== undefined && args.location !== undefined && args.city !== args.location) {
      throw new ToolError('invalid_arguments', 'give the place as city or as location, not both');
    }
    const city = args.city ?? args.location;
    const hasCoords = args.latitude !== undefined && args.longitude !== undefined;
    if (!hasCoords && (args.latitude !== undefined || args.longitude !== undefined)) {
      throw new ToolError('invalid_arguments', 'give both latitude and longitude (or a city)');
    }
    if (!hasCoords && !city)
      throw new ToolError('invalid_arguments', 'give latitude and longitude, or a city (or location)');

    let place: { name?: string; country?: string; latitude: number; longitude: number };
    if (hasCoords) place = { latitude: args.latitude!, longitude: args.longitude! };
    else {
      const search = new URL(geocodingUrl(baseUrl));
      search.searchParams.set('name', city!);
      search.searchParams.set('count', '1');
      const found = (await getJson(search, ctx)) as {
        results?: Array<{ name: string; country?: string; latitude: number; longitude: number }>;
      };
      const first = found.results?.[0];
      if (!first) throw new ToolError('failed', `no place named ${JSON.stringify(city)} was found`, { city: city! });
      place = { name: first.name, country: first.country, latitude: first.latitude, longitude: first.longitude };
    }

    const url = new URL(baseUrl);
    url.searchParams.set('latitude', String(place.latitude));
    url.searchParams.set('longitude', String(place.longitude));
    url.searchParams.set(
      'current',
      'temperature_2m,relative_humidity_2m,apparent_temperature,precipitation,weather_code,wind_speed_10m',
    );
    url.searchParams.set('timezone', 'auto');
    const body = (await getJson(url, ctx)) as {
      latitude?: number;
      longitude?: number;
      timezone?: string;
      current?: Record<string, number | string>;
      current_units?: Record<string, string>;
    };
    if (!body.current) throw new ToolError('failed', `unexpected answer from ${url.host}: no "current" block`);
    const current = body.current;
    const description = WMO[Number(current.weather_code)] ?? `weather code ${current.weather_code}`;
    const latitude = body.latitude ?? place.latitude;
    const longitude = body.longitude ?? place.longitude;
    return {
      // The reference's answer (Open-Meteo's default units are metric: °C, %, km/h).
      location: place.name ?? `${latitude}, ${longitude}`,
      temperature: current.temperature_2m ?? null,
      conditions: description,
      humidity: current.relative_humidity_2m ?? null,
      wind_speed: current.wind_speed_10m ?? null,
      units: 'metric',
      // Loom's.
      place: {
        ...(place.name ? { name: place.name } : {}),
        ...(place.country ? { country: place.country } : {}),
        latitude,
        longitude,
        timezone: body.timezone,
      },
      current,
      current_units: body.current_units ?? {},
      description,
    };
  };
}

/** The JSON of a 2xx answer; Open-Meteo says why it refused in `reason`. */
async function getJson(url: URL, ctx: ToolContext): Promise<unknown> {
  return jsonBody(url, await request(url, ctx), (body) => (body as { reason?: string }).reason);
}
