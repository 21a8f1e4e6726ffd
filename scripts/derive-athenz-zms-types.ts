/**
 * Derives the facts the ZMS conformance test checks from Athenz's RDL
 * (core/zms/src/main/rdl/*.tdl, *.rdli in AthenZ/athenz): every type with its
 * fields (type, optional or not) and every resource with its method, path,
 * answer type, expected status and listed exceptions. Writes
 * packages/server/test/conformance/athenz-zms-rdl.json.
 *
 *   node --import tsx scripts/derive-athenz-zms-types.ts [path-to-athenz-git-dir]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const repo = process.argv[2] ?? '/work/.mirror/AthenZ+athenz/repo';
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const commit = git('rev-parse', 'HEAD').trim();
const files = git('ls-tree', '-r', '--name-only', 'HEAD', 'core/zms/src/main/rdl/').split('\n').filter((f) => /\.(tdl|rdli)$/.test(f));

const STATUS: Record<string, number> = {
  OK: 200, CREATED: 201, ACCEPTED: 202, NO_CONTENT: 204, NOT_MODIFIED: 304, BAD_REQUEST: 400, UNAUTHORIZED: 401,
  FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, PRECONDITION_FAILED: 412, TOO_MANY_REQUESTS: 429, INTERNAL_SERVER_ERROR: 500,
};

interface Field { name: string; type: string; optional: boolean }
interface TypeDef { base: string; fields?: Field[]; values?: string[] }
interface Resource { type: string; method: string; path: string; name?: string; expected: number[]; exceptions: number[] }

const types: Record<string, TypeDef> = {};
const resources: Resource[] = [];

/** The text of the block that starts at the "{" at `open`, and the index after its "}". */
function block(text: string, open: number): [string, number] {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return [text.slice(open + 1, i), i + 1];
  }
  throw new Error('unbalanced braces');
}

function fields(body: string): Field[] {
  return body.split(';').map((l) => l.trim()).filter(Boolean).flatMap((line) => {
    const m = /^([A-Za-z][\w.]*(?:<[^>]+>)?)\s+(\w+)\s*(\(([^)]*)\))?$/.exec(line.replace(/\s+/g, ' '));
    return m ? [{ type: m[1]!.replace(/\s/g, ''), name: m[2]!, optional: /\boptional\b/.test(m[4] ?? '') }] : [];
  });
}

for (const file of files) {
  const text = git('show', `HEAD:${file}`).replace(/\/\/[^\n]*/g, '');
  // Options may hold quoted patterns with parentheses: (pattern="{DomainName}(:{EntityName})?")
  const typeRe = /type\s+(\w+)\s+([\w.<>,]+)\s*(\((?:"[^"]*"|[^)"])*\))?\s*(\{|;)/g;
  for (let m; (m = typeRe.exec(text)); ) {
    const [, name, base, , end] = m;
    if (end === '{') {
      const [body, next] = block(text, m.index + m[0].length - 1);
      typeRe.lastIndex = next;
      types[name!] = base === 'Enum' ? { base, values: body.split(/[\s,]+/).filter(Boolean) } : { base: base!, fields: fields(body) };
    } else {
      types[name!] = { base: base! };
    }
  }
  const resRe = /resource\s+([\w.]+)\s+(GET|PUT|POST|DELETE|PATCH|OPTIONS)\s+"([^"]+)"\s*(\(([^)]*)\))?\s*\{/g;
  for (let m; (m = resRe.exec(text)); ) {
    const [body, next] = block(text, m.index + m[0].length - 1);
    resRe.lastIndex = next;
    const expected = /expected\s+([\w\s,]+);/.exec(body)?.[1]?.split(',').map((s) => STATUS[s.trim()]!) ?? [200];
    const exceptions = [...body.matchAll(/ResourceError\s+(\w+);/g)].map((x) => STATUS[x[1]!]!).filter(Boolean);
    const name = /name=(\w+)/.exec(m[5] ?? '')?.[1];
    resources.push({ type: m[1]!, method: m[2]!, path: m[3]!.split('?')[0]!, ...(name ? { name } : {}), expected, exceptions });
  }
}

const out = { source: `AthenZ/athenz@${commit} core/zms/src/main/rdl`, generatedBy: 'scripts/derive-athenz-zms-types.ts', types, resources };
writeFileSync(new URL('../packages/server/test/conformance/athenz-zms-rdl.json', import.meta.url), `${JSON.stringify(out, null, 1)}\n`);
console.log(`${Object.keys(types).length} types, ${resources.length} resources from ${files.length} files`);
