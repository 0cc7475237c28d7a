// Parser: tokens -> syntax tree, by recursive descent with panic-mode
// recovery. After an error it skips to the next ';' or '}' (or a keyword that
// starts a definition) so one mistake yields one message; when skipping was
// needed the tree is flagged incomplete and semantic checks are not run on it,
// because they would report consequences of the syntax error, not new errors.
import {
  isBaseType,
  isKeyword,
  type AnnotationNode,
  type AnnotationValue,
  type DefinitionNode,
  type FieldNode,
  type FileNode,
  type Ident,
  type ImportNode,
  type InterfaceNode,
  type MethodNode,
  type ModuleNode,
  type QualifiedName,
  type StructNode,
  type TypeNode,
} from './ast.js';
import type { Diagnostics } from './diagnostics.js';
import { describeToken, type Token } from './lexer.js';

export interface ParseResult {
  ast: FileNode;
  /** False when recovery skipped input, so the tree may be missing pieces. */
  complete: boolean;
}

/** Deeper nesting is never meaningful and would only risk the call stack. */
const MAX_TYPE_DEPTH = 32;
const MAX_DEFINITION_DEPTH = 8;

/** Keywords that cannot start a type (so a member starting with one is not a field). */
const NON_TYPE_KEYWORDS = new Set(['module', 'interface', 'struct', 'import', 'extends']);

/** Keywords that begin a definition: panic mode stops in front of them. */
const SYNC_KEYWORDS = new Set(['module', 'interface', 'struct', 'import']);

type NameRole = 'module' | 'struct' | 'interface' | 'field' | 'method' | 'parameter';

export function parse(tokens: Token[], file: string, diags: Diagnostics): ParseResult {
  return new Parser(tokens, file, diags).parseFile();
}

class Parser {
  private pos = 0;
  private complete = true;
  private typeDepth = 0;
  private defDepth = 0;
  private eofReported = false;

  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
    private readonly diags: Diagnostics,
  ) {}

  parseFile(): ParseResult {
    const ast: FileNode = { file: this.file, imports: [], modules: [] };
    while (!this.atEof()) {
      const t = this.peek();
      if (this.isWord(t, 'import')) {
        this.parseImport(ast.imports);
      } else if (this.isWord(t, 'module')) {
        this.parseModule(ast);
      } else {
        const hint =
          this.isWord(t, 'struct') || this.isWord(t, 'interface') || this.isPunct(t, '[')
            ? 'definitions must be inside a module: '
            : '';
        this.errorAt(t, `${hint}expected 'module' or 'import', found ${describeToken(t)}`);
        this.skipTopLevel();
      }
    }
    return { ast, complete: this.complete };
  }

  // ---- token helpers ----

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private advance(): Token {
    const t = this.tokens[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private atEof(): boolean {
    return this.peek().kind === 'eof';
  }

  private isPunct(t: Token, p: string): boolean {
    return t.kind === 'punct' && t.text === p;
  }

  private isWord(t: Token, w: string): boolean {
    return t.kind === 'ident' && t.text === w;
  }

  /** Reports at a token; only the first error at end of file is kept (later ones just echo it). */
  private errorAt(t: Token, message: string): void {
    if (t.bad) return;
    if (t.kind === 'eof') {
      if (this.eofReported) return;
      this.eofReported = true;
    }
    this.diags.error(t.loc, message);
  }

  private expectPunct(p: string, context: string): boolean {
    const t = this.peek();
    if (this.isPunct(t, p)) {
      this.advance();
      return true;
    }
    this.errorAt(t, `expected '${p}' ${context}, found ${describeToken(t)}`);
    return false;
  }

  private canStartType(t: Token): boolean {
    return t.kind === 'ident' && !NON_TYPE_KEYWORDS.has(t.text);
  }

  /**
   * Whether a missing ';' can safely be assumed: the next token closes the
   * block, or starts a new line with something that can begin a member (the
   * usual forgotten ';' at a line end). Otherwise guessing would cascade.
   */
  private canFollowMember(t: Token): boolean {
    if (t.kind === 'eof' || this.isPunct(t, '}')) return true;
    const prev = this.tokens[this.pos - 1];
    const newLine = prev !== undefined && prev.loc.line < t.loc.line;
    return newLine && (t.kind === 'ident' || this.isPunct(t, '['));
  }

  /** ';' ending a field, method, struct or interface: if missing, assume it when the next token fits. */
  private expectSemicolon(context: string): void {
    const t = this.peek();
    if (this.isPunct(t, ';')) {
      this.advance();
      return;
    }
    this.errorAt(t, `expected ';' ${context}, found ${describeToken(t)}`);
    if (!this.canFollowMember(t)) this.skip(false);
  }

  /**
   * Panic mode: skip to just after the next ';' or to the next '}' or
   * definition keyword, ignoring anything inside braces. With `force` at least
   * one token is consumed, so callers looping on the same token make progress.
   */
  private skip(force: boolean): void {
    this.complete = false;
    let depth = 0;
    let first = true;
    while (!this.atEof()) {
      const t = this.peek();
      if (depth === 0) {
        if (this.isPunct(t, '}') && !this.looksStray(t)) return;
        if (!(force && first)) {
          if (this.isPunct(t, ';')) {
            this.advance();
            return;
          }
          if (t.kind === 'ident' && SYNC_KEYWORDS.has(t.text)) return;
        }
      }
      if (this.isPunct(t, '{')) depth++;
      else if (this.isPunct(t, '}') && depth > 0) depth--;
      this.advance();
      first = false;
    }
  }

  /**
   * A '}' with more of the same statement after it on its line (`sequen}ce<int> x;`)
   * is a typo, not the end of the block: a real closing brace is followed by
   * ';', another '}', or a line break. Skipping over it avoids closing the
   * block early and reporting everything after it.
   */
  private looksStray(brace: Token): boolean {
    const next = this.tokens[this.pos + 1];
    if (!next || next.kind === 'eof' || next.loc.line !== brace.loc.line) return false;
    return !(this.isPunct(next, ';') || this.isPunct(next, '}'));
  }

  /**
   * A '{' forgotten at the end of a header line: assume it when the next line
   * starts like a member, so the body is still parsed instead of skipped.
   */
  private expectOpenBrace(context: string, startsBody: (t: Token) => boolean): boolean {
    if (this.expectPunct('{', context)) return true;
    const t = this.peek();
    const prev = this.tokens[this.pos - 1];
    if (prev !== undefined && prev.loc.line < t.loc.line && startsBody(t)) {
      this.complete = false;
      return true;
    }
    return false;
  }

  /** Outside modules only 'module' and 'import' can resynchronise. */
  private skipTopLevel(): void {
    this.complete = false;
    this.advance();
    while (!this.atEof()) {
      const t = this.peek();
      if (this.isWord(t, 'module') || this.isWord(t, 'import')) return;
      this.advance();
    }
  }

  // ---- names ----

  private parseName(role: NameRole): Ident | undefined {
    const t = this.peek();
    if (t.kind !== 'ident') {
      this.errorAt(t, `expected ${role} name, found ${describeToken(t)}`);
      return undefined;
    }
    this.advance();
    if (isBaseType(t.text) || t.text === 'void') {
      this.errorAt(t, `'${t.text}' is a reserved type name and cannot name a ${role}`);
    } else if (isKeyword(t.text)) {
      this.errorAt(t, `'${t.text}' is a keyword and cannot name a ${role}`);
    }
    return { text: t.text, loc: t.loc };
  }

  private parseQualifiedName(what: string): QualifiedName | undefined {
    const first = this.peek();
    if (first.kind !== 'ident' || isKeyword(first.text)) {
      this.errorAt(first, `expected ${what}, found ${describeToken(first)}`);
      return undefined;
    }
    this.advance();
    const firstIdent: Ident = { text: first.text, loc: first.loc };
    if (!this.isPunct(this.peek(), '::')) return { module: undefined, name: firstIdent };
    this.advance();
    const second = this.peek();
    if (second.kind !== 'ident' || isKeyword(second.text)) {
      this.errorAt(second, `expected a name after '${first.text}::', found ${describeToken(second)}`);
      return undefined;
    }
    this.advance();
    return { module: firstIdent, name: { text: second.text, loc: second.loc } };
  }

  // ---- top level ----

  private parseImport(into: ImportNode[]): void {
    const kw = this.advance();
    const t = this.peek();
    if (t.kind !== 'ident') {
      this.errorAt(t, `expected a file name (without .idl) after 'import', found ${describeToken(t)}`);
      this.skip(false);
      return;
    }
    this.advance();
    into.push({ loc: kw.loc, name: { text: t.text, loc: t.loc } });
    if (this.isPunct(this.peek(), ';')) this.advance();
  }

  private parseModule(file: FileNode): void {
    this.advance();
    const name = this.parseName('module');
    if (!name) {
      this.skip(false);
      return;
    }
    const startsModuleBody = (t: Token): boolean =>
      this.isWord(t, 'struct') || this.isWord(t, 'interface') || this.isPunct(t, '[');
    if (!this.expectOpenBrace(`after module name '${name.text}'`, startsModuleBody)) {
      this.skip(false);
      return;
    }
    const mod: ModuleNode = { name, definitions: [] };
    file.modules.push(mod);
    while (!this.atEof() && !this.isPunct(this.peek(), '}')) {
      const t = this.peek();
      if (this.isPunct(t, '[')) {
        const annotations = this.parseAnnotations();
        if (!annotations) {
          this.skip(false);
          continue;
        }
        const next = this.peek();
        if (this.isWord(next, 'interface')) {
          this.parseInterface(annotations, mod.definitions);
        } else if (this.isWord(next, 'struct')) {
          this.errorAt(next, 'annotations are only allowed before an interface or a method, not before a struct');
          this.parseStruct(mod.definitions);
        } else {
          this.errorAt(next, `expected 'interface' after annotations, found ${describeToken(next)}`);
          this.skip(true);
        }
      } else if (this.isWord(t, 'struct')) {
        this.parseStruct(mod.definitions);
      } else if (this.isWord(t, 'interface')) {
        this.parseInterface([], mod.definitions);
      } else if (this.isWord(t, 'module')) {
        this.errorAt(t, `modules cannot be nested: module '${name.text}' is still open (missing '}'?)`);
        this.nested(() => this.parseModule(file));
      } else if (this.isWord(t, 'import')) {
        this.errorAt(t, `'import' must appear outside modules`);
        this.parseImport(file.imports);
      } else {
        this.errorAt(t, `expected 'struct', 'interface' or '}', found ${describeToken(t)}`);
        this.skip(true);
      }
    }
    if (!this.isPunct(this.peek(), '}')) {
      this.errorAt(this.peek(), `expected '}' to close module '${name.text}', found ${describeToken(this.peek())}`);
      this.complete = false;
      return;
    }
    this.advance();
    const semi = this.peek();
    if (this.isPunct(semi, ';')) {
      this.errorAt(semi, `unexpected ';' after module '${name.text}': a module's closing '}' takes no ';'`);
      this.advance();
    }
  }

  /** Runs a recovery parse of a misplaced definition, unless nesting is absurdly deep. */
  private nested(parseIt: () => void): void {
    if (this.defDepth >= MAX_DEFINITION_DEPTH) {
      this.skip(true);
      return;
    }
    this.defDepth++;
    try {
      parseIt();
    } finally {
      this.defDepth--;
    }
  }

  /** 'struct' or 'interface' inside a struct or interface body: report, then parse it as a module member. */
  private misplacedDefinition(t: Token, container: string, into: DefinitionNode[]): void {
    const article = t.text === 'interface' ? 'an' : 'a';
    this.errorAt(t, `${article} ${t.text} cannot be defined inside ${container}; define it directly in the module`);
    this.nested(() => {
      if (t.text === 'struct') this.parseStruct(into);
      else this.parseInterface([], into);
    });
  }

  // ---- definitions ----

  private parseStruct(into: DefinitionNode[]): void {
    this.advance();
    const name = this.parseName('struct');
    if (!name) {
      this.skip(false);
      return;
    }
    if (!this.expectOpenBrace(`after struct name '${name.text}'`, (t) => this.canStartType(t))) {
      this.skip(false);
      return;
    }
    const node: StructNode = { kind: 'struct', name, fields: [] };
    into.push(node);
    while (!this.atEof() && !this.isPunct(this.peek(), '}')) {
      const t = this.peek();
      if (this.isWord(t, 'struct') || this.isWord(t, 'interface')) {
        this.misplacedDefinition(t, `struct '${name.text}'`, into);
      } else if (this.canStartType(t)) {
        this.parseField(node.fields);
      } else {
        this.errorAt(t, `expected a field type or '}', found ${describeToken(t)}`);
        this.skip(true);
      }
    }
    this.closeDefinition('struct', name.text);
  }

  private parseInterface(annotations: AnnotationNode[], into: DefinitionNode[]): void {
    this.advance();
    const name = this.parseName('interface');
    if (!name) {
      this.skip(false);
      return;
    }
    const bases: QualifiedName[] = [];
    if (this.isWord(this.peek(), 'extends')) {
      this.advance();
      for (;;) {
        const base = this.parseQualifiedName('a base interface name');
        if (!base) {
          this.skip(false);
          return;
        }
        bases.push(base);
        if (!this.isPunct(this.peek(), ',')) break;
        this.advance();
      }
    }
    const context = `after interface '${name.text}'${bases.length ? ' and its base' : ''}`;
    if (!this.expectOpenBrace(context, (t) => this.canStartType(t) || this.isPunct(t, '['))) {
      this.skip(false);
      return;
    }
    const node: InterfaceNode = { kind: 'interface', annotations, name, bases, methods: [] };
    into.push(node);
    while (!this.atEof() && !this.isPunct(this.peek(), '}')) {
      let methodAnnotations: AnnotationNode[] = [];
      if (this.isPunct(this.peek(), '[')) {
        const parsed = this.parseAnnotations();
        if (!parsed) {
          this.skip(false);
          continue;
        }
        methodAnnotations = parsed;
      }
      const t = this.peek();
      if (this.isWord(t, 'struct') || this.isWord(t, 'interface')) {
        this.misplacedDefinition(t, `interface '${name.text}'`, into);
      } else if (this.canStartType(t)) {
        this.parseMethod(methodAnnotations, node.methods);
      } else {
        const what = methodAnnotations.length ? 'a method after annotations' : "a method return type or '}'";
        this.errorAt(t, `expected ${what}, found ${describeToken(t)}`);
        this.skip(true);
      }
    }
    this.closeDefinition('interface', name.text);
  }

  /** The '};' that ends a struct or interface. */
  private closeDefinition(kind: string, name: string): void {
    if (!this.expectPunct('}', `to close ${kind} '${name}'`)) {
      this.complete = false;
      return;
    }
    this.expectSemicolon(`after ${kind} '${name}'`);
  }

  /** `TYPE name;` inside a struct. */
  private parseField(into: FieldNode[]): void {
    const type = this.parseType();
    if (!type) {
      this.skip(false);
      return;
    }
    const name = this.parseName('field');
    if (!name) {
      this.skip(false);
      return;
    }
    into.push({ type, name });
    this.expectSemicolon('after field declaration');
  }

  private parseMethod(annotations: AnnotationNode[], into: MethodNode[]): void {
    const returns = this.parseType();
    if (!returns) {
      this.skip(false);
      return;
    }
    const name = this.parseName('method');
    if (!name) {
      this.skip(false);
      return;
    }
    if (!this.expectPunct('(', `after method name '${name.text}'`)) {
      this.skip(false);
      return;
    }
    const params: FieldNode[] = [];
    if (this.isPunct(this.peek(), ')')) {
      this.advance();
    } else {
      for (;;) {
        const t = this.peek();
        if (!this.canStartType(t)) {
          this.errorAt(t, `expected a parameter type, found ${describeToken(t)}`);
          this.skip(false);
          return;
        }
        const type = this.parseType();
        if (!type) {
          this.skip(false);
          return;
        }
        const pname = this.parseName('parameter');
        if (!pname) {
          this.skip(false);
          return;
        }
        params.push({ type, name: pname });
        const sep = this.peek();
        if (this.isPunct(sep, ',')) {
          this.advance();
          continue;
        }
        if (this.isPunct(sep, ')')) {
          this.advance();
          break;
        }
        this.errorAt(sep, `expected ',' or ')' after parameter '${pname.text}', found ${describeToken(sep)}`);
        this.skip(false);
        return;
      }
    }
    into.push({ annotations, returns, name, params });
    this.expectSemicolon('after method declaration');
  }

  // ---- annotations ----

  /** `[key=value, ...]`; undefined after a reported error. */
  private parseAnnotations(): AnnotationNode[] | undefined {
    this.advance();
    const list: AnnotationNode[] = [];
    if (this.isPunct(this.peek(), ']')) {
      this.advance();
      return list;
    }
    for (;;) {
      const k = this.peek();
      if (k.kind !== 'ident') {
        this.errorAt(k, `expected an annotation name, found ${describeToken(k)}`);
        return undefined;
      }
      this.advance();
      if (!this.expectPunct('=', `after annotation name '${k.text}'`)) return undefined;
      const v = this.peek();
      let value: AnnotationValue;
      if (v.kind === 'int') value = v.value;
      else if (v.kind === 'string') value = v.text;
      else if (v.kind === 'ident') value = v.text === 'true' ? true : v.text === 'false' ? false : v.text;
      else {
        this.errorAt(
          v,
          `expected an annotation value (integer, string, true, false or identifier), found ${describeToken(v)}`,
        );
        return undefined;
      }
      this.advance();
      list.push({ key: { text: k.text, loc: k.loc }, value, valueLoc: v.loc });
      const sep = this.peek();
      if (this.isPunct(sep, ',')) {
        this.advance();
        continue;
      }
      if (this.isPunct(sep, ']')) {
        this.advance();
        return list;
      }
      this.errorAt(sep, `expected ',' or ']' in annotation list, found ${describeToken(sep)}`);
      return undefined;
    }
  }

  // ---- types ----

  private parseType(): TypeNode | undefined {
    const t = this.peek();
    if (!this.canStartType(t)) {
      this.errorAt(t, `expected a type, found ${describeToken(t)}`);
      return undefined;
    }
    if (this.typeDepth >= MAX_TYPE_DEPTH) {
      this.errorAt(t, `type is nested too deeply (more than ${MAX_TYPE_DEPTH} levels)`);
      return undefined;
    }
    this.typeDepth++;
    try {
      return this.parseTypeInner(t);
    } finally {
      this.typeDepth--;
    }
  }

  private parseTypeInner(t: Token): TypeNode | undefined {
    const loc = t.loc;
    if (isBaseType(t.text)) {
      this.advance();
      return { kind: 'base', name: t.text, loc };
    }
    if (t.text === 'void') {
      this.advance();
      return { kind: 'void', loc };
    }
    if (t.text === 'sequence') {
      this.advance();
      if (!this.expectPunct('<', "after 'sequence'")) return undefined;
      const of = this.parseType();
      if (!of) return undefined;
      if (!this.expectPunct('>', "to close 'sequence<'")) return undefined;
      return { kind: 'sequence', of, loc };
    }
    if (t.text === 'dictionary') {
      this.advance();
      if (!this.expectPunct('<', "after 'dictionary'")) return undefined;
      const key = this.parseType();
      if (!key) return undefined;
      if (!this.expectPunct(',', 'between the key and value types of a dictionary')) return undefined;
      const value = this.parseType();
      if (!value) return undefined;
      if (!this.expectPunct('>', "to close 'dictionary<'")) return undefined;
      return { kind: 'dictionary', key, value, loc };
    }
    const q = this.parseQualifiedName('a type');
    if (!q) return undefined;
    return { kind: 'named', module: q.module, name: q.name, loc };
  }
}
