// App start: sign the resident in silently and start the grid worker's offline queue.
const api = require('./utils/api');
const { loadConfig } = require('./utils/app-config');
const { getWorkerQueue } = require('./utils/offline-queue');

App({
  onLaunch() {
    // Residents never see a login screen: wx.login gives a code the server exchanges.
    // Through the client, so a 403 (account disabled) is remembered and not retried on every tap.
    if (!api.resident.hasLogin()) api.resident.relogin().catch(() => {});
    loadConfig(api.resident);
    const queue = getWorkerQueue();
    queue.start();
    if (api.worker.hasLogin() && queue.list().length) queue.flush();
  },
  onShow() {
    // Back from the background (maybe with signal again): send what waits.
    const queue = getWorkerQueue();
    if (api.worker.hasLogin() && queue.list().length) queue.flush();
  },
});
