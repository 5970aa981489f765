// web:search: the reference's web search, on the Brave Search API (GET <base_url>?q=&count=,
// key in the X-Subscription-Token header). The key comes from [tools.web_search] api_key or, as
// the reference reads it, BRAVE_API_KEY in the runtime's environment. Without a key, or when the
// API cannot be reached, the call fails saying which.
import { expandEnv } from '../../config';
import { ToolError } from '../errors';
import type { ToolDefinition, ToolHandler } from '../types';
import { excerpt, jsonBody, request } from './http';

/** The variable the reference reads its key from. */
export const BRAVE_KEY_ENV = 'BRAVE_API_KEY';
const DEFAULT_RESULTS = 5;
/** Brave answers at most 20 web results a request; the reference cuts a larger limit to 20 too. */
const MAX_RESULTS = 20;

export interface WebSearchSettings {
  baseUrl: string;
  /** "" = BRAVE_API_KEY from the environment; may name variables as ${NAME}. */
  apiKey: string;
}

export const webSearchDefinition: Omit<ToolDefinition, 'provider' | 'owner'> = {
  name: 'web:search',
  description: `Search the web (Brave Search). Answers {query, results: [{title, url, snippet}], count}. Needs an API key: [tools.web_search] api_key or ${BRAVE_KEY_ENV}.`,
  parametersSchema: {
    type: 'object',
    properties: {
      query: { type: 'string', minLength: 1, description: 'Search query' },
      limit: {
        type: 'integer',
        minimum: 1,
        description: `Maximum number of results (default ${DEFAULT_RESULTS}, at most ${MAX_RESULTS})`,
      },
      count: { type: 'integer', minimum: 1, description: "The same as limit (the API's name for it)" },
    },
    required: ['query'],
    additionalProperties: false,
  },
};

interface SearchArgs {
  query: string;
  limit?: number;
  count?: number;
}
interface BraveAnswer {
  web?: { results?: Array<{ title?: string; url?: string; description?: string }> };
}

export function webSearchHandler(settings: WebSearchSettings, env: NodeJS.ProcessEnv = process.env): ToolHandler {
  return async (raw, ctx) => {
    const args = raw as unknown as SearchArgs;
    if (args.limit !== undefined && args.count !== undefined && args.limit !== args.count)
      throw new ToolError('invalid_arguments', 'give limit or count, not both');
    const wanted = Math.min(args.limit ?? args.count ?? DEFAULT_RESULTS, MAX_RESULTS);
    const key = apiKey(settings, env);
    const url = new URL(settings.baseUrl);
    url.searchParams.set('q', args.query);
    url.searchParams.set('count', String(wanted));
    const answer = await request(url, ctx, { headers: { 'x-subscription-token': key } });
    if (answer.status === 401 || answer.status === 403) {
      throw new ToolError(
        'failed',
        `${url.host} refused the API key (${answer.status}): check [tools.web_search] api_key or ${BRAVE_KEY_ENV}`,
        { host: url.host, status: String(answer.status) },
      );
    }
    if (!answer.ok)
      throw new ToolError('failed', `${url.host} answered ${answer.status}: ${excerpt(answer.text, [key])}`, {
        host: url.host,
        status: String(answer.status),
      });
    const body = jsonBody(url, answer) as BraveAnswer;
    const results = (body.web?.results ?? [])
      .slice(0, wanted)
      .map((r) => ({ title: r.title ?? '', url: r.url ?? '', snippet: r.description ?? null }));
    return { query: args.query, results, count: results.length };
  };
}

function apiKey(settings: WebSearchSettings, env: NodeJS.ProcessEnv): string {
  if (settings.apiKey) {
    const expanded = expandEnv(settings.apiKey, env);
    if (typeof expanded !== 'string')
      throw new ToolError('unavailable', `web:search has no API key: tools.web_search.api_key: ${expanded.error}`, {
        setting: 'tools.web_search.api_key',
      });
    if (expanded) return expanded;
  }
  const fromEnv = env[BRAVE_KEY_ENV];
  if (fromEnv) return fromEnv;
  throw new ToolError(
    'unavailable',
    `web:search is not configured: it needs a Brave Search API key (https://brave.com/search/api/); set ${BRAVE_KEY_ENV} in the runtime's environment or api_key in [tools.web_search] of loom.toml`,
    { setting: 'tools.web_search.api_key', env: BRAVE_KEY_ENV },
  );
}
