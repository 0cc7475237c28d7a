import assert from 'node:assert/strict';
import { localNginxHttp } from '../../../scripts/local/nginx-routes.js';
import { testNginxConfig } from '../../support/nginx.js';

describe('local nginx routes', function () {
  it('renders a configuration nginx accepts, with streaming /files and WebSocket /ws', function () {
    const http = localNginxHttp({ listen: 1013, gateways: [1011, 1014], fileServices: [1009], webRoot: '/tmp' });
    assert.match(http, /location \/files \{[^}]*proxy_request_buffering off;/);
    assert.match(http, /location \/ws \{[^}]*proxy_set_header Upgrade \$http_upgrade;/);
    assert.match(testNginxConfig(http), /syntax is ok/);
  });
});
