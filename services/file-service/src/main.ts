// The file service process: HTTP /files (uploads, resumable uploads, downloads)
// on TCE_HTTP_PORT and files::IFileMeta over gRPC. See docs/file-service.md.
import { mainOf, runService } from '../../runtime/src/run.js';
import { fileServiceSchema } from './config.js';
import { startFileService } from './service.js';

mainOf(() => runService('file-service', fileServiceSchema, startFileService));
