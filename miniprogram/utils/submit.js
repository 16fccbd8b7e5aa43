// What the 求助 and 申请 pages do after the person taps 提交: create the record, upload each
// photo with its client_photo_id, and report the subscribe consent asked for in the same tap.
const { reportConsent } = require('./subscribe');

/**
 * client: the resident client; path: '/help-requests' | '/applications'; body (with client_id);
 * photos: [{path, client_photo_id}]; consent: a promise from askStatusConsent (may be null);
 * templateId: the status template. Resolves {record, created, photoFailures, consent}.
 * Creating the record throws (with the server's message); a photo that fails is collected.
 */
async function submitWithPhotos({ client, path, body, photos, consent, templateId }) {
  const res = await client.send({ method: 'POST', path, data: body, showError: false });
  const record = res.data;
  const photoFailures = [];
  for (let i = 0; i < (photos || []).length; i += 1) {
    const p = photos[i];
    try {
      await client.upload({
        path: `${path}/${record.id}/photos`,
        filePath: p.path,
        name: 'file',
        formData: { client_photo_id: p.client_photo_id },
        showError: false,
      });
    } catch (err) {
      photoFailures.push({ index: i, message: err.message });
    }
  }
  const result = consent ? await consent : null;
  if (result) await reportConsent(client, templateId, result);
  return { record, created: res.status === 201, photoFailures, consent: result };
}

function photoFailureText(failures) {
  if (!failures.length) return '';
  return `有 ${failures.length} 张照片没有传上去（${failures[0].message}），可以到窗口补交。`;
}

module.exports = { submitWithPhotos, photoFailureText };
