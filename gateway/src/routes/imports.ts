import { AnalyseImportRequest, ListImportErrorsRequest, ListImportsRequest, StartImportRequest } from '@crm/contracts/crm/contacts/v1/imports';
import { DomainError } from '@crm/errors';
import { fromServiceError, isServiceError } from '@crm/grpc';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { requireScope } from '../auth';
import { analysisOut, EXPORT_LISTS, importOut, mappingIn, type MappingBody } from '../contacts-mappers';
import { searchQuery } from '../contacts-schemas';
import type { GatewayDeps } from '../deps';
import { problem, sendProblem } from '../problem';
import { AUTHENTICATED, idParam, json, problems, str } from '../schemas';
import { nextCursor, pageParams, type PageQuery } from './contacts';

/** What contacts takes in one AppendImportChunk call. */
export const CHUNK_BYTES = 1024 * 1024;
/** The media types of an uploaded CSV file. */
const CSV_TYPES = ['text/csv', 'application/octet-stream'];

/** A 413 problem (Fastify's own code for a body over its limit, which toProblem maps). */
function tooLarge(max: number): Error {
  return Object.assign(new Error(`the file is larger than the ${max} bytes an import accepts`), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}

/** contacts' RESOURCE_EXHAUSTED over a file's size is a 413 here, not the 429 of a rate limit. */
function sizeAs413(err: unknown, max: number): never {
  const domain = isServiceError(err) ? fromServiceError(err) : err;
  if (domain instanceof DomainError && domain.code === 'RESOURCE_EXHAUSTED') throw tooLarge(max);
  throw err;
}

/** The upload's query: `file_name` only (the route validates it itself, its body being a stream). */
function fileName(req: FastifyRequest): string {
  const q = req.query as Record<string, unknown>;
  const unknown = Object.keys(q).filter((k) => k !== 'file_name');
  if (unknown.length) throw new DomainError('INVALID_ARGUMENT', 'invalid querystring', { violations: unknown.map((field) => ({ field, message: 'unknown field' })) });
  const name = q.file_name;
  if (name === undefined) return 'import.csv';
  if (typeof name !== 'string' || name.length < 1 || name.length > 255 || name.includes('\u0000') || name.trim() === '') {
    throw new DomainError('INVALID_ARGUMENT', 'file_name must be 1..255 characters', { violations: [{ field: 'file_name', message: 'must be 1..255 characters, not blank' }] });
  }
  return name;
}

const importLinks = (id: string) => ({
  GetImport: { operationId: 'getImport', parameters: { id }, description: 'Progress and counts' },
  AnalyseImport: { operationId: 'analyseImport', parameters: { id }, description: 'Analyse again with overrides' },
  StartImport: { operationId: 'startImport', parameters: { id }, description: 'Map the columns and start (or dry-run)' },
  ListImportErrors: { operationId: 'listImportErrors', parameters: { id }, description: 'The invalid rows' },
  CancelImport: { operationId: 'cancelImport', parameters: { id }, description: 'Stop it' },
});

/**
 * CSV import (upload streamed to contacts in ≤ 1 MiB chunks, analysis, mapping, dry run, progress,
 * errors, cancel) and export of any list as CSV (UTF-8 with BOM), streamed page by page.
 */
export async function importRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;
  const max = deps.env.GATEWAY_IMPORT_MAX_BYTES;

  // The upload has a context of its own: its body is the raw file, handed to the route as a stream
  // (never buffered, never JSON), with its own limit instead of BODY_LIMIT_BYTES.
  await app.register(async (upload) => {
    // Only the file's media types: JSON or text/plain here is a 415, not a body parsed into a string.
    upload.removeAllContentTypeParsers();
    upload.setErrorHandler((err, req, reply) => {
      if ((err as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return sendProblem(reply, problem(415, 'send the CSV file as text/csv or application/octet-stream'), req);
      }
      throw err; // the gateway's own handler answers everything else
    });
    upload.addContentTypeParser(CSV_TYPES, (req, payload, done) => {
      // A declared length over the limit is refused before a byte of the body is read.
      const length = Number(req.headers['content-length']);
      if (Number.isFinite(length) && length > max) return done(tooLarge(max), undefined);
      done(null, payload);
    });
    // A refused upload may have a body still coming (up to 2 GB): the connection is closed after the
    // answer instead of being read to its end to be kept alive.
    upload.addHook('onSend', async (_req, reply, payload) => {
      if (reply.statusCode >= 400) reply.header('connection', 'close');
      return payload;
    });

    upload.post(
      '/v1/imports',
      {
        schema: {
          tags: ['imports'],
          operationId: 'createImport',
          summary: 'Upload a CSV file and analyse it',
          description: `The body is the file itself (\`text/csv\` or \`application/octet-stream\`; UTF-8 or Windows-1251, comma or semicolon separated), at most GATEWAY_IMPORT_MAX_BYTES (default 64 MiB): a larger Content-Length is a 413 before the body is read, and a chunked body is counted as it arrives. Answers with the detected encoding and separator, the first rows and a suggested mapping; then POST /v1/imports/{id}/start.`,
          querystring: { type: 'object', additionalProperties: false, properties: { file_name: { ...str(255), minLength: 1, description: 'The original file name (default import.csv)' } } },
          body: {
            content: {
              // No type: whatever bytes are sent are the file; whether they are CSV is the analysis' answer (a 400).
              'text/csv': { schema: { description: 'The CSV file' } },
              'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'The CSV file' } },
            },
          },
          response: {
            201: json('Uploaded and analysed', { $ref: 'ImportAnalysis#' }, { location: { type: 'string', description: 'The import: /v1/imports/{id}' } }),
            ...problems(400, 413, 415, ...AUTHENTICATED),
          },
        },
        // The body is a stream and the query is checked by fileName(): nothing for Ajv to validate.
        validatorCompiler: () => () => true,
        links: { 201: importLinks('$response.body#/import/id') },
      },
      async (req, reply) => {
        requireScope(req.caller!, 'contacts:write');
        const name = fileName(req);
        const body = req.body instanceof Readable ? req.body : undefined;
        const declared = Number(req.headers['content-length']);
        const tenant = req.caller!.tenant;
        let importId = '';
        let seq = 0;
        let total = 0;
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const send = async (data: Buffer) => {
          if (!importId) {
            const created = await clients.imports
              .createImport({ fileName: name, sizeBytes: Number.isFinite(declared) ? declared : 0, defaultCountry: deps.env.DEFAULT_PHONE_COUNTRY }, tenant)
              .catch((err) => sizeAs413(err, max));
            importId = created.import!.id;
          }
          await clients.imports.appendImportChunk({ importId, seq: seq++, data }, tenant).catch((err) => sizeAs413(err, max));
        };
        try {
          for await (const chunk of body ?? []) {
            const buf = chunk as Buffer;
            total += buf.length;
            if (total > max) throw tooLarge(max);
            pending.push(buf);
            pendingBytes += buf.length;
            while (pendingBytes >= CHUNK_BYTES) {
              const all = Buffer.concat(pending);
              await send(all.subarray(0, CHUNK_BYTES));
              pending = [all.subarray(CHUNK_BYTES)];
              pendingBytes = all.length - CHUNK_BYTES;
            }
          }
          if (pendingBytes > 0) await send(Buffer.concat(pending));
        } catch (err) {
          // A half-uploaded file is of no use: the import is cancelled (best effort) before the answer.
          if (importId) await clients.imports.cancelImport({ id: importId }, tenant).catch(() => undefined);
          throw err;
        }
        if (total === 0) throw new DomainError('INVALID_ARGUMENT', 'the CSV file is empty', { violations: [{ field: '(body)', message: 'is empty' }] });
        const res = await clients.imports.analyseImport(AnalyseImportRequest.fromPartial({ importId }), tenant).catch((err) => sizeAs413(err, max));
        return reply.code(201).header('location', `/v1/imports/${importId}`).send(analysisOut(res.import!, res.sample, res.suggestedMapping));
      },
    );
  });

  app.post<{ Params: { id: string }; Body: { encoding?: string; delimiter?: string; has_header?: boolean } }>(
    '/v1/imports/:id/analyse',
    {
      schema: {
        tags: ['imports'],
        operationId: 'analyseImport',
        summary: 'Analyse an uploaded file again, overriding what detection got wrong',
        params: idParam,
        body: { $ref: 'AnalyseImport#' },
        response: { 200: json('The analysis', { $ref: 'ImportAnalysis#' }), ...problems(400, 413, 415, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const b = req.body ?? {};
      const res = await clients.imports.analyseImport(
        AnalyseImportRequest.fromPartial({ importId: req.params.id, encoding: b.encoding ?? '', delimiter: b.delimiter ?? '', hasHeader: b.has_header }),
        req.caller!.tenant,
      );
      return analysisOut(res.import!, res.sample, res.suggestedMapping);
    },
  );

  app.post<{ Params: { id: string }; Body: { mapping: MappingBody[]; dry_run?: boolean } }>(
    '/v1/imports/:id/start',
    {
      schema: {
        tags: ['imports'],
        operationId: 'startImport',
        summary: 'Set the column mapping and start the import (or a dry run)',
        description: 'A dry run counts and reports the invalid rows, writing nothing. The real import writes each valid row once, deduplicated against existing contacts, and survives a restart of the service. Follow it with GET /v1/imports/{id}.',
        params: idParam,
        body: { $ref: 'StartImport#' },
        response: { 200: json('Started', { $ref: 'Import#' }), ...problems(400, 413, 415, ...AUTHENTICATED, 404, 409) },
      },
      links: { 200: importLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.imports.startImport(
        StartImportRequest.fromPartial({ importId: req.params.id, mapping: req.body.mapping.map(mappingIn), dryRun: req.body.dry_run ?? false }),
        req.caller!.tenant,
      );
      return importOut(res.import!);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/imports/:id',
    {
      schema: {
        tags: ['imports'],
        operationId: 'getImport',
        summary: "An import's progress and counts",
        params: idParam,
        response: { 200: json('The import', { $ref: 'Import#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.imports.getImport({ id: req.params.id }, req.caller!.tenant);
      return importOut(res.import!);
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/imports',
    {
      schema: {
        tags: ['imports'],
        operationId: 'listImports',
        summary: 'Imports, newest first',
        querystring: pageParams(),
        response: { 200: json('A page of imports', { $ref: 'ImportPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.imports.listImports(ListImportsRequest.fromPartial({ pageSize: req.query.page_size ?? 25, cursor: req.query.cursor ?? '' }), req.caller!.tenant);
      return { items: res.imports.map(importOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { page_size?: number; after_row?: number } }>(
    '/v1/imports/:id/errors',
    {
      schema: {
        tags: ['imports'],
        operationId: 'listImportErrors',
        summary: "An import's invalid rows (row number and reason), in row order",
        params: idParam,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            page_size: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
            after_row: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'The next_after_row of the previous page' },
          },
        },
        response: { 200: json('A page of invalid rows', { $ref: 'ImportErrorPage#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.imports.listImportErrors(
        ListImportErrorsRequest.fromPartial({ importId: req.params.id, pageSize: req.query.page_size ?? 25, afterRow: req.query.after_row ?? 0 }),
        req.caller!.tenant,
      );
      return { items: res.errors.map((e) => ({ row_number: e.rowNumber, reason: e.reason })), total: res.total, next_after_row: res.nextAfterRow || null };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/imports/:id/cancel',
    {
      schema: {
        tags: ['imports'],
        operationId: 'cancelImport',
        summary: 'Stop a running import (rows already written stay)',
        params: idParam,
        response: { 200: json('The import', { $ref: 'Import#' }), ...problems(400, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.imports.cancelImport({ id: req.params.id }, req.caller!.tenant);
      return importOut(res.import!);
    },
  );

  for (const word of EXPORT_LISTS.words) {
    const list = EXPORT_LISTS.in(word);
    const operationId = `export${word.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`;
    app.get<{ Querystring: { query?: string } }>(
      `/v1/exports/${word}.csv`,
      {
        schema: {
          tags: ['imports'],
          operationId,
          summary: `Export the ${word.replace('-', ' ')} list as CSV`,
          description: 'Every row of the list (filtered by `query` as the list itself is), streamed as UTF-8 CSV with a BOM so that Excel opens Cyrillic, as an attachment.',
          querystring: { type: 'object', additionalProperties: false, properties: { query: searchQuery } },
          response: {
            200: {
              description: 'The CSV file',
              headers: { 'content-disposition': { type: 'string', description: `attachment; filename="${word}.csv"` } },
              content: { 'text/csv': { schema: { type: 'string' } } },
            },
            ...problems(400, ...AUTHENTICATED),
          },
        },
      },
      async (req, reply) => {
        requireScope(req.caller!, 'contacts:read');
        const tenant = req.caller!.tenant;
        const query = req.query.query ?? '';
        // The first page before the headers: an error there is still a problem+json answer.
        const first = await clients.imports.exportContacts({ list, query, pageSize: 1000, cursor: '' }, tenant);
        async function* pages() {
          yield first.csv;
          let cursor = first.nextCursor;
          while (cursor) {
            const next = await clients.imports.exportContacts({ list, query, pageSize: 1000, cursor }, tenant);
            yield next.csv;
            cursor = next.nextCursor;
          }
        }
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${word}.csv"`)
          .send(Readable.from(pages()));
      },
    );
  }
}
