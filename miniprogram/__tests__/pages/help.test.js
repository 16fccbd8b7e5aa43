const { installFakeWx, settle, problem, wxmlAttr } = require('../helpers/fake-wx');
const { loadPage } = require('../helpers/page-harness');
const config = require('../../utils/config');
const logic = require('../../resident/help/logic');
const { resetConfigCache } = require('../../utils/app-config');

config.RETRY.baseDelayMs = 0;

const LOC = { lat: 30.6, lng: 119.7, coord_type: 'gcj02', accuracy_m: 20 };

function form(over) {
  return Object.assign(logic.initialForm(), { location: LOC, contactPhone: '13900001111' }, over || {});
}

describe('求助 logic', () => {
  test('needs a location or a village', () => {
    expect(logic.validateHelp(form({ location: null })).location).toBe('请允许获取位置，或选择所在村（社区）');
    expect(logic.validateHelp(form({ location: null, village: { code: '330523001201', name: 'x' } })).location).toBeUndefined();
  });

  test('for someone else: their name is required, phones are checked', () => {
    const errors = logic.validateHelp(form({ forSelf: false, subjectName: ' ', subjectPhone: '123', contactPhone: '999' }));
    expect(errors['subject.name']).toBe('请填写求助对象姓名');
    expect(errors['subject.phone']).toContain('格式不正确');
    expect(errors.contact_phone).toContain('格式不正确');
  });

  test('a contact phone may be left out only when a WeChat phone is bound', () => {
    expect(logic.validateHelp(form({ contactPhone: '' })).contact_phone).toBeTruthy();
    expect(logic.validateHelp(form({ contactPhone: '' }), { hasBoundPhone: true })).toEqual({});
  });

  test('body for someone else carries the subject, relation and gcj02 location', () => {
    const body = logic.buildHelpBody(form({
      forSelf: false, subjectName: '张大爷', subjectPhone: '0572-5123456', relation: '邻居', hardship: ['elderly_alone'], description: ' 独居 ', urgent: true,
    }), { clientId: 'c1', deviceId: 'd1' });
    expect(body).toEqual({
      client_id: 'c1',
      device_id: 'd1',
      for_self: false,
      quick: false,
      hardship: ['elderly_alone'],
      description: '独居',
      urgent: true,
      relation: '邻居',
      subject: { name: '张大爷', phone: '05725123456' },
      location: LOC,
      contact_phone: '13900001111',
    });
  });

  test('when the village was chosen the body has subject.village_code and no location', () => {
    const body = logic.buildHelpBody(form({ location: null, useVillage: true, village: { code: '330523001201' } }), { clientId: 'c', deviceId: 'd' });
    expect(body.subject).toEqual({ village_code: '330523001201' });
    expect(body.location).toBeUndefined();
  });

  test('no hardship and no description is allowed (the clerk phones), and sent as empty', () => {
    const empty = form({ hardship: [], description: '   ' });
    expect(logic.validateHelp(empty)).toEqual({});
    const body = logic.buildHelpBody(empty, { clientId: 'c', deviceId: 'd' });
    expect(body.hardship).toEqual([]);
    expect(body.description).toBe('');
  });

  test('a stored unanswered send counts for a day', () => {
    const body = { client_id: 'x', quick: false };
    expect(logic.pendingHelp({ body, at: 0 }, logic.PENDING_TTL_MS - 1)).toEqual(body);
    expect(logic.pendingHelp({ body, at: 0 }, logic.PENDING_TTL_MS)).toBeNull();
    expect(logic.pendingHelp('', 0)).toBeNull();
  });

  test('the client_id of an unanswered send is reused only for the same content', () => {
    const sent = logic.buildHelpBody(form(), { clientId: 'old', deviceId: 'd' });
    const again = logic.buildHelpBody(form(), { clientId: '', deviceId: 'd' });
    expect(logic.clientIdFor(again, sent, () => 'new')).toBe('old');
    const edited = logic.buildHelpBody(form({ description: '改了' }), { clientId: '', deviceId: 'd' });
    expect(logic.clientIdFor(edited, sent, () => 'new')).toBe('new');
    expect(logic.clientIdFor(again, null, () => 'new')).toBe('new');
  });
});

describe('求助 page', () => {
  let control;
  beforeEach(() => {
    resetConfigCache();
    control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
  });

  function serve(overrides) {
    control.respond((req) => {
      const p = req.url.replace(/^https?:\/\/[^/]+/, '');
      if (overrides && overrides[p]) return overrides[p](req);
      if (p === '/mp/v1/config') return { statusCode: 200, data: { hardship_tags: [{ key: 'disability', label: '残疾' }], subscribe_templates: { status: 'TPL-STATUS' } } };
      if (p === '/mp/v1/help-requests') return { statusCode: 201, data: { id: 'h1', number: '330523001-2026-00004' } };
      if (p === '/mp/v1/subscriptions') return { statusCode: 200, data: { remaining: 1 } };
      return { statusCode: 404, data: {} };
    });
  }

  test('tags come from GET /mp/v1/config; the built-in list is used when it fails', async () => {
    serve();
    const page = loadPage('resident/help').render({});
    await settle(10);
    expect(page.instance.data.tags).toEqual([{ key: 'disability', label: '残疾' }]);

    // offline: the last copy first, then the built-in list
    resetConfigCache();
    control.respond(() => ({ fail: 'request:fail' }));
    const offline = loadPage('resident/help').render({});
    await settle(10);
    expect(offline.instance.data.tags).toEqual([{ key: 'disability', label: '残疾' }]);

    resetConfigCache();
    control.storage.delete('yimen:config');
    const fresh = loadPage('resident/help').render({});
    await settle(10);
    expect(fresh.instance.data.tags.map((t) => t.key)).toContain('serious_illness');
    expect(fresh.instance.data.tags).toHaveLength(11);
  });

  test('location is asked in gcj02 on open; refused, it falls back to the village', async () => {
    serve();
    const page = loadPage('resident/help').render({});
    await settle(10);
    expect(control.calls.location[0].type).toBe('gcj02');
    expect(page.instance.data.form.useVillage).toBe(true);
    expect(page.querySelector('.hint').dom.textContent).toContain('请选择所在的村（社区）');
  });

  test('submit: consent asked first, then create, one upload per photo, then the subscription', async () => {
    serve();
    control.setLocation({ latitude: 30.6, longitude: 119.7, accuracy: 20 });
    control.answerSubscribe({ 'TPL-STATUS': 'accept' });
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData({
      'form.contactPhone': '13900001111',
      'form.photos': [{ path: 'tmp/1.jpg', client_photo_id: 'cp-1' }, { path: 'tmp/2.jpg', client_photo_id: 'cp-2' }],
    });
    control.order.length = 0;
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(30);

    expect(control.order).toEqual([
      'requestSubscribeMessage',
      'request POST /mp/v1/help-requests',
      'upload /mp/v1/help-requests/h1/photos',
      'upload /mp/v1/help-requests/h1/photos',
      'request POST /mp/v1/subscriptions',
    ]);
    expect(control.calls.subscribe[0]).toEqual(['TPL-STATUS']);
    const created = JSON.parse(control.requests.find((r) => /help-requests$/.test(r.url)).data);
    expect(created).toMatchObject({ for_self: true, quick: false, location: { coord_type: 'gcj02', lat: 30.6, lng: 119.7 }, contact_phone: '13900001111' });
    expect(control.uploads.map((u) => [u.name, u.formData.client_photo_id])).toEqual([['file', 'cp-1'], ['file', 'cp-2']]);
    expect(JSON.parse(control.requests.find((r) => /subscriptions$/.test(r.url)).data)).toEqual({ template_id: 'TPL-STATUS', accepted: true });
    expect(control.storage.get('yimen:resident:contact-phone')).toBe('13900001111');
    expect(control.calls.modal[0].content).toContain('330523001-2026-00004');
  });

  test('invalid form: no consent dialog, no request, messages under the fields', async () => {
    serve();
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData({ 'form.forSelf': false, 'form.contactPhone': '' });
    control.order.length = 0;
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(10);
    expect(control.order).toEqual([]);
    expect(page.querySelectorAll('.error').map((n) => n.dom.textContent)).toEqual(expect.arrayContaining(['请填写求助对象姓名', '请允许获取位置，或选择所在村（社区）']));
  });

  test('a content-flagged description comes back in the server words', async () => {
    serve({ '/mp/v1/help-requests': () => problem(422, 'content-flagged', '情况说明里有不允许发送的内容，请修改后再提交') });
    control.setLocation({ latitude: 30.6, longitude: 119.7, accuracy: 20 });
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData({ 'form.contactPhone': '13900001111' });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    expect(control.calls.modal.pop()).toMatchObject({ title: '没有提交成功', content: '情况说明里有不允许发送的内容，请修改后再提交' });
    expect(control.uploads).toHaveLength(0);
  });
  const PENDING = 'yimen:resident:help-pending';
  const helpPosts = () => control.requests.filter((r) => /\/help-requests$/.test(r.url)).map((r) => JSON.parse(r.data));

  async function openAndSubmit(setup) {
    control.setLocation({ latitude: 30.6, longitude: 119.7, accuracy: 20 });
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData(Object.assign({ 'form.contactPhone': '13900001111', 'form.description': '老伴住院' }, setup || {}));
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(30);
    return page;
  }

  test('no tags and no description: the hint says so and the empty body is what is sent', async () => {
    serve();
    const page = await openAndSubmit({ 'form.description': '', 'form.hardship': [] });
    expect(wxmlAttr(page.querySelector('.textarea'), 'placeholder')).toBe('可以不写，工作人员会打电话问您');
    const body = helpPosts()[0];
    expect(body).toMatchObject({ quick: false, hardship: [], description: '' });
    expect(control.calls.modal.pop().title).toBe('求助已提交');
  });

  test.each([
    ['503 after the retries', () => ({ statusCode: 503, data: {} })],
    ['500', () => problem(500, 'internal', '服务出错了')],
    ['408', () => problem(408, 'timeout', '请求超时')],
    ['429', () => problem(429, 'rate-limited', '操作太频繁了')],
    ['no answer', () => ({ fail: 'request:fail timeout' })],
  ])('%s: the client_id is kept in storage; reopening the page resends the same content under it', async (_, failure) => {
    serve({ '/mp/v1/help-requests': failure });
    await openAndSubmit();
    const first = helpPosts()[0];
    expect(control.storage.get(PENDING).body).toEqual(first);

    // the page is closed and opened again; the same content goes out under the same client_id
    serve();
    await openAndSubmit();
    const all = helpPosts();
    expect(all[all.length - 1]).toEqual(first);
    expect(control.storage.has(PENDING)).toBe(false);

    // and the next request is a new one
    await openAndSubmit();
    expect(helpPosts().pop().client_id).not.toBe(first.client_id);
  });

  test('a definite refusal (4xx) frees the client_id; changed content gets a new one', async () => {
    serve({ '/mp/v1/help-requests': () => problem(422, 'content-flagged', '情况说明里有不允许发送的内容，请修改后再提交') });
    await openAndSubmit();
    expect(control.storage.has(PENDING)).toBe(false);
    const refused = helpPosts()[0];
    serve({ '/mp/v1/help-requests': () => ({ fail: 'request:fail' }) });
    await openAndSubmit();
    const unanswered = helpPosts().pop();
    expect(unanswered.client_id).not.toBe(refused.client_id);
    serve();
    await openAndSubmit({ 'form.description': '老伴住院，需要陪护' });
    expect(helpPosts().pop().client_id).not.toBe(unanswered.client_id);
  });

  test('a photo that got no answer is tried again with the same client_photo_id', async () => {
    serve();
    control.respondUpload((rec, n) => (n <= 3 ? { fail: 'uploadFile:fail timeout' } : { statusCode: 201, data: '{"photo_id":"p1"}' }));
    await openAndSubmit({ 'form.photos': [{ path: 'tmp/1.jpg', client_photo_id: 'cp-1' }] });
    expect(control.uploads.length).toBeGreaterThan(3);
    expect(new Set(control.uploads.map((u) => u.formData.client_photo_id))).toEqual(new Set(['cp-1']));
    const done = control.calls.modal.pop();
    expect(done.title).toBe('求助已提交');
    expect(done.content).not.toContain('没有传上去');
    expect(control.calls.modal.find((m) => m.title === '照片没有传完')).toBeUndefined();
  });

  test('photos still failing: 「重新上传」 is offered before leaving, with the same client_photo_ids', async () => {
    serve();
    let up = false;
    control.respondUpload((rec) => {
      if (!up) return { fail: 'uploadFile:fail -101' };
      return { statusCode: rec.formData.client_photo_id === 'cp-1' ? 200 : 201, data: '{"photo_id":"p"}' };
    });
    control.answerModal((o) => {
      if (o.title === '照片没有传完') up = true; // signal back while the question is on screen
      return { confirm: true, cancel: false };
    });
    await openAndSubmit({ 'form.photos': [{ path: 'tmp/1.jpg', client_photo_id: 'cp-1' }, { path: 'tmp/2.jpg', client_photo_id: 'cp-2' }] });
    const asked = control.calls.modal.filter((m) => m.title === '照片没有传完');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ confirmText: '重新上传' });
    expect(asked[0].content).toContain('有 2 张照片没有传上去');
    const last = control.uploads.slice(-2).map((u) => [u.url.replace(/^https?:\/\/[^/]+/, ''), u.formData.client_photo_id]);
    expect(last).toEqual([['/mp/v1/help-requests/h1/photos', 'cp-1'], ['/mp/v1/help-requests/h1/photos', 'cp-2']]);
    expect(new Set(control.uploads.map((u) => u.formData.client_photo_id))).toEqual(new Set(['cp-1', 'cp-2']));
    // the record was created once; only then the page leaves, with nothing left to report
    expect(helpPosts()).toHaveLength(1);
    const done = control.calls.modal.pop();
    expect(done.title).toBe('求助已提交');
    expect(done.content).not.toContain('没有传上去');
    expect(control.calls.navigate).toEqual(['/resident/item/index?kind=help&id=h1']);
  });

  test('「以后再说」: the page leaves and says which photos did not go', async () => {
    serve();
    control.respondUpload(() => ({ fail: 'uploadFile:fail -101' }));
    control.answerModal((o) => (o.title === '照片没有传完' ? { confirm: false, cancel: true } : { confirm: true, cancel: false }));
    await openAndSubmit({ 'form.photos': [{ path: 'tmp/1.jpg', client_photo_id: 'cp-1' }] });
    expect(control.calls.modal.filter((m) => m.title === '照片没有传完')).toHaveLength(1);
    expect(control.calls.modal.pop().content).toContain('有 1 张照片没有传上去');
    expect(control.calls.navigate).toEqual(['/resident/item/index?kind=help&id=h1']);
  });

  test('a photo the server refused is not offered again', async () => {
    serve();
    control.respondUpload(() => ({ statusCode: 415, data: JSON.stringify({ title: '照片无法接收', detail: '只接受 JPEG、PNG、WebP 或 HEIC 照片', status: 415 }) }));
    await openAndSubmit({ 'form.photos': [{ path: 'tmp/1.gif', client_photo_id: 'cp-1' }] });
    expect(control.uploads).toHaveLength(1);
    expect(control.calls.modal.find((m) => m.title === '照片没有传完')).toBeUndefined();
    expect(control.calls.modal.pop().content).toContain('只接受 JPEG、PNG、WebP 或 HEIC 照片');
  });
});
