// What the 求助 and 申请 pages do after the person taps 提交: create the record, upload each
// photo with its client_photo_id, and report the subscribe consent asked for in the same tap.
//
// Photos are uploaded after the record exists, so a photo that does not go through must not be
// lost silently: an upload that got no answer (or 408/429/5xx) is tried again a bounded number
// of times with the SAME client_photo_id (the server answers 200 for a photo it already has, 201
// for a new one), and if some still fail the page offers 「重新上传」 (same ids again) before it
// leaves. A photo the server refused (413/415/422) is not retried: the same bytes would be
// refused again.
const config = require('./config');
const { isOutcomeUnknown } = require('./request');
const { reportConsent } = require('./subscribe');

// Passes over the photos that failed for a passing reason (each pass is one client.upload, which
// itself retries a lost connection as request.js does).
const PHOTO_PASSES = 2;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Uploads photos to `${path}/${recordId}/photos`. photos: [{path, client_photo_id}]; indexes:
 * which of them to try (default all). Resolves the failures:
 * [{index, message, retryable}] (retryable: the outcome was unknown, trying again may work).
 */
async function uploadPhotos({ client, path, recordId, photos, indexes, passes }) {
  const list = photos || [];
  let todo = indexes ? indexes.slice() : list.map((_, i) => i);
  const failures = {};
  const rounds = passes || PHOTO_PASSES;
  for (let pass = 0; pass < rounds && todo.length; pass += 1) {
    if (pass > 0) await sleep(config.RETRY.baseDelayMs * 2 ** (pass + 1));
    const again = [];
    for (let k = 0; k < todo.length; k += 1) {
      const i = todo[k];
      const p = list[i];
      try {
        await client.upload({
          path: `${path}/${recordId}/photos`,
          filePath: p.path,
          name: 'file',
          formData: { client_photo_id: p.client_photo_id },
          showError: false,
        });
        delete failures[i];
      } catch (err) {
        const retryable = isOutcomeUnknown(err);
        failures[i] = { index: i, message: err.message, retryable };
        if (retryable) again.push(i);
      }
    }
    todo = again;
  }
  return Object.keys(failures).map(Number).sort((a, b) => a - b).map((i) => failures[i]);
}

/**
 * client: the resident client; path: '/help-requests' | '/applications'; body (with client_id);
 * photos: [{path, client_photo_id}]; consent: a promise from askStatusConsent (may be null);
 * templateId: the status template; onCreated(record): called as soon as the record exists
 * (before the photos), so the page can forget the draft's pending client_id.
 * Resolves {record, created, photoFailures, consent}. Creating the record throws (with the
 * server's message); photo failures are returned after the bounded retries.
 */
async function submitWithPhotos({
  client, path, body, photos, consent, templateId, onCreated,
}) {
  const res = await client.send({ method: 'POST', path, data: body, showError: false });
  const record = res.data;
  if (onCreated) onCreated(record);
  const photoFailures = await uploadPhotos({ client, path, recordId: record.id, photos });
  const result = consent ? await consent : null;
  if (result) await reportConsent(client, templateId, result);
  return { record, created: res.status === 201, photoFailures, consent: result };
}

function ask(failures) {
  return new Promise((resolve) => {
    wx.showModal({
      title: '照片没有传完',
      content: `有 ${failures.length} 张照片没有传上去（${failures[0].message}）。记录已经提交了，要重新上传这些照片吗？`,
      confirmText: '重新上传',
      cancelText: '以后再说',
      success: (r) => resolve(!!(r && r.confirm)),
      fail: () => resolve(false),
    });
  });
}

/**
 * After submitWithPhotos: while some photos failed for a passing reason, offers 「重新上传」 and
 * uploads those again with their same client_photo_ids. Resolves the failures left (the person
 * said no, or the server refused them).
 */
async function offerPhotoRetry({
  client, path, record, photos, failures,
}) {
  let left = failures || [];
  while (left.some((f) => f.retryable)) {
    if (!(await ask(left.filter((f) => f.retryable)))) break;
    wx.showLoading({ title: '正在上传照片…', mask: true });
    let again;
    try {
      again = await uploadPhotos({
        client, path, recordId: record.id, photos, indexes: left.filter((f) => f.retryable).map((f) => f.index),
      });
    } finally {
      wx.hideLoading();
    }
    left = left.filter((f) => !f.retryable).concat(again).sort((a, b) => a.index - b.index);
  }
  return left;
}

function photoFailureText(failures) {
  if (!failures.length) return '';
  return `有 ${failures.length} 张照片没有传上去（${failures[0].message}），可以到窗口补交。`;
}

module.exports = {
  submitWithPhotos, uploadPhotos, offerPhotoRetry, photoFailureText, PHOTO_PASSES,
};
