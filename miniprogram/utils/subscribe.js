// Consent to status messages: asked with wx.requestSubscribeMessage from the submit tap, then
// reported to POST /mp/v1/subscriptions.

// Must be called synchronously inside a tap handler. Resolves 'accept' | 'reject' | 'ban' |
// 'filter', or null when there is no template or the dialog could not be shown.
function askStatusConsent(templateId) {
  if (!templateId || typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve(null);
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: [templateId],
      success: (res) => resolve(res[templateId] || null),
      fail: () => resolve(null),
    });
  });
}

// Tells the server what the person chose; a failure here must not spoil the submission.
async function reportConsent(client, templateId, result) {
  if (!templateId || !result) return null;
  try {
    return await client.post('/subscriptions', { template_id: templateId, accepted: result === 'accept' }, { showError: false });
  } catch (e) {
    return null;
  }
}

module.exports = { askStatusConsent, reportConsent };
