// gRPC server reflection (grpc.reflection.v1 and v1alpha) served from the
// FileDescriptorSet that `buf build` writes at `make proto` time. We serve the
// compiler's own descriptors rather than re-deriving them with protobufjs
// (@grpc/reflection), which emits invalid map-entry names and breaks on
// cross-file references — stock clients such as grpcurl then refuse them.
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

export interface DescriptorIndex {
  files: Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>;
  /** Fully qualified symbol (no leading dot) → file name. */
  symbols: Map<string, string>;
  services: string[];
}

export function loadDescriptorIndex(descriptorSetFile: string): DescriptorIndex {
  const set = fromBinary(FileDescriptorSetSchema, fs.readFileSync(descriptorSetFile));
  const files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  const symbols = new Map<string, string>();
  const services: string[] = [];
  for (const f of set.file) {
    files.set(f.name, { proto: f, bytes: toBinary(FileDescriptorProtoSchema, f) });
    const prefix = f.package ? `${f.package}.` : '';
    const addMessage = (m: DescriptorProto, scope: string): void => {
      const full = `${scope}${m.name}`;
      symbols.set(full, f.name);
      for (const n of m.nestedType) addMessage(n, `${full}.`);
      for (const e of m.enumType) symbols.set(`${full}.${e.name}`, f.name);
    };
    for (const m of f.messageType) addMessage(m, prefix);
    for (const e of f.enumType) symbols.set(`${prefix}${e.name}`, f.name);
    for (const s of f.service) {
      const full = `${prefix}${s.name}`;
      symbols.set(full, f.name);
      for (const m of s.method) symbols.set(`${full}.${m.name}`, f.name);
      services.push(full);
    }
  }
  return { files, symbols, services: services.sort() };
}

interface ReflectionRequest {
  host: string;
  kind:
    | 'file_by_filename'
    | 'file_containing_symbol'
    | 'file_containing_extension'
    | 'all_extension_numbers_of_type'
    | 'list_services'
    | 'unknown';
  arg: string;
  raw: Uint8Array;
}

const FIELD_KIND: Record<number, ReflectionRequest['kind']> = {
  3: 'file_by_filename',
  4: 'file_containing_symbol',
  5: 'file_containing_extension',
  6: 'all_extension_numbers_of_type',
  7: 'list_services',
};

function decodeRequest(buf: Buffer): ReflectionRequest {
  const r = new BinaryReader(buf);
  const req: ReflectionRequest = { host: '', kind: 'unknown', arg: '', raw: buf };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) req.host = r.string();
    else if (FIELD_KIND[no] && no !== 5) {
      req.kind = FIELD_KIND[no]!;
      req.arg = r.string();
    } else if (no === 5) {
      req.kind = 'file_containing_extension';
      r.bytes();
    } else r.skip(wt);
  }
  return req;
}

/** Files in dependency order: the file itself first, then its transitive imports. */
function withDependencies(index: DescriptorIndex, name: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const f = index.files.get(n);
    if (!f) return;
    out.push(f.bytes);
    for (const d of f.proto.dependency) visit(d);
  };
  visit(name);
  return out;
}

function encodeResponse(index: DescriptorIndex, req: ReflectionRequest): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).string(req.host);
  w.tag(2, 2).bytes(req.raw);
  const error = (code: grpc.status, msg: string): void => {
    w.tag(7, 2).fork().tag(1, 0).int32(code).tag(2, 2).string(msg).join();
  };
  const files = (list: Uint8Array[]): void => {
    w.tag(4, 2).fork();
    for (const b of list) w.tag(1, 2).bytes(b);
    w.join();
  };
  switch (req.kind) {
    case 'list_services':
      w.tag(6, 2).fork();
      for (const s of index.services) w.tag(1, 2).fork().tag(1, 2).string(s).join();
      w.join();
      break;
    case 'file_by_filename':
      if (index.files.has(req.arg)) files(withDependencies(index, req.arg));
      else error(grpc.status.NOT_FOUND, `file not found: ${req.arg}`);
      break;
    case 'file_containing_symbol': {
      const f = index.symbols.get(req.arg.replace(/^\./, ''));
      if (f) files(withDependencies(index, f));
      else error(grpc.status.NOT_FOUND, `symbol not found: ${req.arg}`);
      break;
    }
    case 'all_extension_numbers_of_type':
    case 'file_containing_extension':
      error(grpc.status.NOT_FOUND, 'extensions are not used by this server');
      break;
    default:
      error(grpc.status.INVALID_ARGUMENT, 'unsupported reflection request');
  }
  return w.finish();
}

const identity = (b: Buffer): Buffer => b;

/** Adds both reflection service versions to a grpc-js server. */
export function addReflection(server: grpc.Server, index: DescriptorIndex): void {
  for (const pkg of ['grpc.reflection.v1', 'grpc.reflection.v1alpha']) {
    const def: grpc.ServiceDefinition = {
      ServerReflectionInfo: {
        path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    };
    server.addService(def, {
      ServerReflectionInfo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (buf: Buffer) => {
          call.write(Buffer.from(encodeResponse(index, decodeRequest(buf))));
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
  }
}
