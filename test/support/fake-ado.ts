import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A fake Azure DevOps organisation speaking the REST shapes azure-devops-node-api uses: resource-area and
 * resource-location discovery, pipeline runs, build logs, build update, and the identity platform's token endpoint.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. /org/my%20project/_apis/pipelines/7/runs?pipelineVersion=3 */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ServicePrincipal {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface FakeAdoScenario {
  /** Polls answered `inProgress` before the run answers `completed`. */
  inProgressPolls: number;
  /** The result of a completed run: succeeded, failed, canceled, or anything ADO may add. */
  result: string;
  neverComplete: boolean;
  /** What a preview run answers as finalYaml; previewError makes it a 400 with that message instead. */
  previewYaml: string;
  previewError?: string;
  /** Every API route (start, poll, logs, log, cancel) answers HTTP 500 this many times before answering normally. */
  transientFailures: number;
  /** The first this many discovery requests (resource areas and locations) answer HTTP 500. */
  discoveryFailures: number;
  /** Every API call answers 401. */
  unauthorized: boolean;
  /** The text of the build's last log, or a factory of a stream for a huge one. */
  log: string | (() => Readable);
  /**
   * Makes the list of the build's logs fail every time: an HTTP status (ADO's error body), `malformed` (200 with a
   * body that is not JSON, as a proxy's error page), or `drop` (the connection closed without an answer).
   */
  logListFailure?: number | 'malformed' | 'drop';
  /** Makes the last log's content fail every time: an HTTP status, or `drop` (half the log sent, then the connection closed). */
  lastLogFailure?: number | 'drop';
  /** PATs accepted as Basic credentials. */
  pats: string[];
  servicePrincipal?: ServicePrincipal;
}

export interface FakeRun {
  id: number;
  pipelineId: number;
  /** When the run was queued. */
  created: Date;
  polls: number;
  cancelRequested: boolean;
  templateParameters: Record<string, string>;
}

export interface FakeAdo {
  /** http://127.0.0.1:PORT: authority host of the token endpoint too. */
  url: string;
  /** The organisation URL for ado-organization-url. */
  orgUrl: string;
  scenario: FakeAdoScenario;
  requests: RecordedRequest[];
  runs: FakeRun[];
  /** Bearer tokens handed out by the token endpoint. */
  issuedTokens: string[];
  /** Requests to the pipelines/builds APIs (discovery excluded), for assertions. */
  apiCalls(): RecordedRequest[];
  close(): Promise<void>;
}

const AREAS = {
  pipelines: '5264459e-e5e0-4bd8-b118-0985e68a4ec5',
  build: '965220d5-5bb9-42cf-8d67-9b146df2a5a4',
  location: '00d9565f-ed9c-4a06-9a50-00e7896ccab4',
};

/** Locations as ADO lists them in OPTIONS /_apis/<area>; the ids are the ones the library asks for. */
const LOCATIONS: Record<string, Array<[id: string, resourceName: string, routeTemplate: string, resourceVersion: number]>> = {
  location: [['e81700f7-3be2-46de-8624-2eb35882fcaa', 'ResourceAreas', '_apis/{resource}/{areaId}', 1]],
  pipelines: [
    ['7859261e-d2e9-4a68-b820-a5d84cc5bb3d', 'runs', '{project}/_apis/{area}/{pipelineId}/{resource}/{runId}', 1],
    ['28e1305e-2afe-47bf-abaf-cbb0e6a91988', 'pipelines', '{project}/_apis/{resource}/{pipelineId}', 1],
    ['fb1b6d27-3957-43d5-a14b-a2d70403e545', 'logs', '{project}/_apis/{area}/{pipelineId}/runs/{runId}/{resource}/{logId}', 1],
  ],
  build: [
    ['0cd358e1-9217-4d94-8269-1c1ee6f93dcf', 'builds', '{project}/_apis/{area}/{resource}/{buildId}', 7],
    ['35a80daf-7f30-45fc-86e8-6b813d9c90df', 'logs', '{project}/_apis/{area}/builds/{buildId}/{resource}/{logId}', 2],
  ],
};

const PROJECT_ID = '6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c';

const defaults = (): FakeAdoScenario => ({
  inProgressPolls: 1,
  result: 'succeeded',
  neverComplete: false,
  previewYaml: 'stages:\n- stage: Build\n',
  transientFailures: 0,
  discoveryFailures: 0,
  unauthorized: false,
  log: '',
  pats: [],
});

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8; api-version=7.2-preview.1', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function adoError(res: http.ServerResponse, status: number, message: string, typeKey: string): void {
  json(res, status, { $id: '1', innerException: null, message, typeName: `Microsoft.TeamFoundation.${typeKey}, Microsoft.TeamFoundation`, typeKey, errorCode: 0, eventId: 3000 });
}

export async function startFakeAdo(overrides: Partial<FakeAdoScenario> = {}): Promise<FakeAdo> {
  const scenario: FakeAdoScenario = { ...defaults(), ...overrides };
  const requests: RecordedRequest[] = [];
  const runs: FakeRun[] = [];
  const issuedTokens: string[] = [];
  const failures = new Map<string, number>();
  let origin = '';

  const authorized = (req: http.IncomingMessage): boolean => {
    if (scenario.unauthorized) return false;
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Bearer ')) return issuedTokens.includes(auth.slice(7));
    if (auth.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      return user === 'PAT' && scenario.pats.includes(rest.join(':'));
    }
    return false;
  };

  const runJson = (base: string, project: string, pipelineId: string, run: FakeRun): Record<string, unknown> => {
    // A cancelled run is done at the next poll; otherwise after inProgressPolls polls.
    const completed = run.cancelRequested || (!scenario.neverComplete && run.polls > scenario.inProgressPolls);
    const self = `${base}/org/${PROJECT_ID}/_apis/pipelines/${pipelineId}/runs/${run.id}`;
    return {
      _links: {
        self: { href: self },
        web: { href: `${base}/org/${encodeURIComponent(project)}/_build/results?buildId=${run.id}` },
        'pipeline.web': { href: `${base}/org/${encodeURIComponent(project)}/_build/definition?definitionId=${pipelineId}` },
        pipeline: { href: `${base}/org/${PROJECT_ID}/_apis/pipelines/${pipelineId}?revision=3` },
      },
      templateParameters: run.templateParameters,
      pipeline: { url: `${base}/org/${PROJECT_ID}/_apis/pipelines/${pipelineId}?revision=3`, id: Number(pipelineId), revision: 3, name: 'oci-image-builder', folder: '\\' },
      state: completed ? 'completed' : 'inProgress',
      ...(completed ? { result: run.cancelRequested ? 'canceled' : scenario.result, finishedDate: new Date().toISOString() } : {}),
      createdDate: run.created.toISOString(),
      url: self,
      id: run.id,
      name: `20240501.${run.id}`,
    };
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> => {
    // Links point where the client came from (a proxy in front of the fake keeps the client on the proxy), as ADO's do.
    const base = req.headers.host ? `http://${req.headers.host}` : origin;
    const url = new URL(req.url ?? '/', base);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const apiVersion = /api-version=([\w.-]+)/.exec(req.headers.accept ?? '')?.[1];

    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token && method === 'POST') {
      const form = new URLSearchParams(body);
      const sp = scenario.servicePrincipal;
      const valid = sp && token[1] === sp.tenantId && form.get('client_id') === sp.clientId && form.get('client_secret') === sp.clientSecret;
      if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== '499b84ac-1321-427f-aa17-267ca6975798/.default') {
        json(res, 400, { error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain the following parameter: grant_type or scope.\r\nTrace ID: 0' });
      } else if (!valid) {
        json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2' });
      } else {
        const issued = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiI0OTliODRhYyJ9.${randomBytes(24).toString('base64url')}`;
        issuedTokens.push(issued);
        json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: issued });
      }
      return;
    }

    if (!path.startsWith('/org/')) return adoError(res, 404, `no organisation at ${path}`, 'HostNotFoundException');
    const rest = path.slice('/org/'.length);
    const isDiscovery = method === 'OPTIONS' || /^_apis\/ResourceAreas$/i.test(rest);
    const key = isDiscovery ? 'discovery' : `${method} ${rest.replace(/\d+/g, 'N')}`;
    const failed = failures.get(key) ?? 0;
    if (failed < (isDiscovery ? scenario.discoveryFailures : scenario.transientFailures)) {
      failures.set(key, failed + 1);
      return adoError(res, 500, 'TF400898: An Internal Error Occurred. Activity Id: 11111111-2222-3333-4444-555555555555.', 'InternalServerErrorException');
    }
    if (!authorized(req)) {
      // What ADO answers a bad or expired credential with X-TFS-FedAuthRedirect: Suppress.
      res.writeHead(401, { 'www-authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/common, Basic realm="https://dev.azure.com/"', 'x-tfs-serviceerror': 'Unauthorized' });
      res.end();
      return;
    }

    const discovery = /^_apis\/(location|pipelines|build)$/i.exec(rest);
    if (discovery && method === 'OPTIONS') {
      const area = discovery[1]!.toLowerCase();
      const value = (LOCATIONS[area] ?? []).map(([id, resourceName, routeTemplate, resourceVersion]) => ({
        id, area: area === 'location' ? 'Location' : area, resourceName, routeTemplate, resourceVersion, minVersion: '1.0', maxVersion: '7.2', releasedVersion: '7.1',
      }));
      return json(res, 200, { count: value.length, value });
    }
    if (/^_apis\/ResourceAreas$/i.test(rest) && method === 'GET') {
      const value = Object.entries(AREAS).map(([name, id]) => ({ id, name, locationUrl: `${base}/org/` }));
      return json(res, 200, { count: value.length, value });
    }
    if (!apiVersion) return adoError(res, 400, 'No api-version was supplied for the "GET" request. The version must be supplied either as part of the Accept header or as a query parameter', 'VssVersionNotSpecifiedException');

    const runs_ = /^([^/]+)\/_apis\/pipelines\/(\d+)\/runs(?:\/(\d+))?$/.exec(rest);
    if (runs_) {
      const [, projectRaw, pipelineId] = runs_ as unknown as [string, string, string, string | undefined];
      const project = decodeURIComponent(projectRaw);
      if (method === 'POST' && !runs_[3]) {
        const params = JSON.parse(body || '{}') as { previewRun?: boolean; templateParameters?: Record<string, string>; yamlOverride?: string };
        if (params.previewRun) {
          if (scenario.previewError) return adoError(res, 400, scenario.previewError, 'PipelineValidationException');
          return json(res, 200, { _links: {}, pipeline: { id: Number(pipelineId), name: 'oci-image-builder' }, finalYaml: scenario.previewYaml, id: -1, name: null });
        }
        const run: FakeRun = {
          id: 1000 + runs.length, pipelineId: Number(pipelineId), created: new Date(), polls: 0, cancelRequested: false, templateParameters: params.templateParameters ?? {},
        };
        runs.push(run);
        return json(res, 200, runJson(base, project, pipelineId, run));
      }
      const run = runs.find((r) => r.id === Number(runs_[3]));
      if (method === 'GET' && run) {
        run.polls++;
        return json(res, 200, runJson(base, project, pipelineId, run));
      }
      return adoError(res, 404, `Run ${runs_[3] ?? ''} does not exist`, 'PipelineRunNotFoundException');
    }

    if (/^[^/]+\/_apis\/build\/builds$/.test(rest) && method === 'GET') {
      // Builds - List: the filters a client looking for its own run uses (definition, queued since, newest first).
      const definitions = (url.searchParams.get('definitions') ?? '').split(',').filter(Boolean).map(Number);
      const minTime = url.searchParams.get('minTime');
      const since = minTime ? Date.parse(minTime) : Number.NaN;
      const top = Number(url.searchParams.get('$top') ?? 1000);
      const value = runs
        .filter((r) => (definitions.length === 0 || definitions.includes(r.pipelineId)) && !(r.created.getTime() < since))
        .sort((a, b) => b.created.getTime() - a.created.getTime() || b.id - a.id)
        .slice(0, top)
        .map((r) => ({
          id: r.id, buildNumber: `20240501.${r.id}`, status: r.cancelRequested ? 'cancelling' : 'inProgress', queueTime: r.created.toISOString(),
          definition: { id: r.pipelineId, name: 'oci-image-builder' }, url: `${base}/org/${PROJECT_ID}/_apis/build/Builds/${r.id}`,
        }));
      return json(res, 200, { count: value.length, value });
    }

    const build = /^([^/]+)\/_apis\/build\/builds\/(\d+)(\/logs(?:\/(\d+))?)?$/.exec(rest);
    const run = build ? runs.find((r) => r.id === Number(build[2])) : undefined;
    if (build && run) {
      const logUrl = (id: number): string => `${base}/org/${PROJECT_ID}/_apis/build/builds/${run.id}/logs/${id}`;
      if (method === 'PATCH' && !build[3]) {
        const update = JSON.parse(body || '{}') as { status?: unknown };
        if (update.status === 4 || update.status === 'cancelling') run.cancelRequested = true;
        return json(res, 200, { id: run.id, buildNumber: `20240501.${run.id}`, status: 'cancelling', url: `${base}/org/${PROJECT_ID}/_apis/build/Builds/${run.id}` });
      }
      if (method === 'GET' && build[3] && !build[4]) {
        const failure = scenario.logListFailure;
        if (typeof failure === 'number') return adoError(res, failure, 'TF400898: An Internal Error Occurred while listing the logs.', failure === 404 ? 'BuildNotFoundException' : 'InternalServerErrorException');
        if (failure === 'malformed') {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html><body>502 Bad Gateway</body></html>');
          return;
        }
        if (failure === 'drop') {
          req.socket.destroy();
          return;
        }
        const value = [1, 2, 3].map((id) => ({ lineCount: 10, createdOn: new Date().toISOString(), lastChangedOn: new Date().toISOString(), id, type: 'Container', url: logUrl(id) }));
        return json(res, 200, { count: value.length, value });
      }
      if (method === 'GET' && build[4]) {
        const id = Number(build[4]);
        if (id < 1 || id > 3) return adoError(res, 404, `log ${id} not found`, 'BuildLogNotFoundException');
        const failure = id === 3 ? scenario.lastLogFailure : undefined;
        if (typeof failure === 'number') return adoError(res, failure, `log ${id} is not available (${failure})`, failure === 404 ? 'BuildLogNotFoundException' : 'InternalServerErrorException');
        res.writeHead(200, { 'content-type': 'text/plain' });
        if (failure === 'drop') {
          const text = typeof scenario.log === 'string' ? scenario.log : 'a log\r\n';
          res.write(text.slice(0, Math.ceil(text.length / 2)), () => res.destroy());
          return;
        }
        const source = id < 3 ? Readable.from([`log ${id} of build ${run.id}: not the last log\r\n`]) : typeof scenario.log === 'string' ? Readable.from([scenario.log]) : scenario.log();
        await pipeline(source, res);
        return;
      }
    }
    adoError(res, 404, `no route for ${method} ${path}`, 'RouteNotFoundException');
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, res, body).catch((err: unknown) => {
        if (!res.headersSent) adoError(res, 500, String(err), 'FakeServerException');
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    orgUrl: `${origin}/org`,
    scenario,
    requests,
    runs,
    issuedTokens,
    apiCalls: () => requests.filter((r) => r.method !== 'OPTIONS' && !/_apis\/ResourceAreas|oauth2/i.test(r.url)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An ADO-style log: every line with a 7-digit-fraction timestamp, CRLF line ends. */
export function adoLog(lines: string[], start = Date.parse('2024-05-01T10:00:00Z')): string {
  return lines.map((line, i) => `${new Date(start + i * 7).toISOString().replace('Z', '1234Z')} ${line}\r\n`).join('');
}

/** A log of about `bytes` bytes of timestamped lines, with `tail` at its end; generated as it is read. */
export function hugeLog(bytes: number, tail: string): () => Readable {
  return () => {
    const line = `${'2024-05-01T10:00:00.1234567Z'} Step 7/9 : RUN go build ./... compiling package github.com/example/module/with/a/long/path\r\n`;
    const block = Buffer.from(line.repeat(Math.max(1, Math.floor((1 << 16) / line.length))));
    let sent = 0;
    return new Readable({
      read() {
        if (sent >= bytes) {
          this.push(tail);
          this.push(null);
          return;
        }
        sent += block.length;
        this.push(block);
      },
    });
  };
}
