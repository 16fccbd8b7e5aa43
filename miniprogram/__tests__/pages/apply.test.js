const { installFakeWx, settle, wxmlAttr } = require('../helpers/fake-wx');
const { loadPage } = require('../helpers/page-harness');
const config = require('../../utils/config');
const { idCheckChar } = require('../../utils/validate');
const logic = require('../../resident/apply/logic');

config.RETRY.baseDelayMs = 0;

const TODAY = new Date(2026, 4, 1);
const id = (body17) => body17 + idCheckChar(body17);
const APPLICANT_ID = id('33052319700101123');
const SPOUSE_ID = id('33052319720202124');

function filled(over) {
  return Object.assign(logic.initialForm(), {
    category: 'dibao',
    applicant: { name: '李四', id_number: APPLICANT_ID, phone: '13900002222' },
    members: [{ name: '王五', id_number: SPOUSE_ID, relation: 'spouse' }],
    income: '1200.5',
    houseCount: '1',
    carCount: '',
    savings: '3000',
    hukouVillage: { code: '330523001201', name: '古城村' },
    reason: '丈夫重病',
    consent: true,
    signedName: '李四',
  }, over || {});
}

describe('申请 logic', () => {
  test('a complete form gives the contract body', () => {
    const out = logic.prepareApplication(filled(), { clientId: 'c1', deviceId: 'd1', today: TODAY });
    expect(out.ok).toBe(true);
    expect(out.body).toEqual({
      client_id: 'c1',
      device_id: 'd1',
      category: 'dibao',
      on_behalf: false,
      applicant: { name: '李四', id_number: APPLICANT_ID, phone: '13900002222' },
      members: [{ name: '王五', id_number: SPOUSE_ID, relation: 'spouse' }],
      income_monthly_yuan: 1200.5,
      assets: { house_count: 1, car_count: 0, savings_yuan: 3000 },
      hukou_village_code: '330523001201',
      reason: '丈夫重病',
      consent: { economic_check: true, signed_name: '李四' },
    });
  });

  test('a bad check digit is caught on the applicant and on a member, by field path', () => {
    const bad = APPLICANT_ID.slice(0, 17) + (APPLICANT_ID[17] === '0' ? '1' : '0');
    const errors = logic.validateApplication(filled({
      applicant: { name: '李四', id_number: bad, phone: '13900002222' },
      members: [{ name: '王五', id_number: '330523197202021240', relation: 'spouse' }],
    }), TODAY);
    expect(errors['applicant.id_number']).toContain('校验码');
    if (SPOUSE_ID !== '330523197202021240') expect(errors['members.0.id_number']).toContain('校验码');
  });

  test('a 15-digit old number is sent converted to 18', () => {
    const out = logic.prepareApplication(filled({ members: [{ name: '老王', id_number: '110105491231002', relation: 'parent' }] }), { clientId: 'c', deviceId: 'd', today: TODAY });
    expect(out.body.members[0].id_number).toBe('11010519491231002X');
    expect(logic.idHint('110105491231002', TODAY)).toBe('已按新证号码提交：11010519491231002X');
    expect(logic.idHint(APPLICANT_ID, TODAY)).toBe('');
  });

  test('the same person twice is refused', () => {
    const errors = logic.validateApplication(filled({ members: [{ name: '李四', id_number: APPLICANT_ID, relation: 'other' }] }), TODAY);
    expect(errors['members.0.id_number']).toBe('这个身份证号码和申请人的重复了');
  });

  test('members need a name and a relation', () => {
    const errors = logic.validateApplication(filled({ members: [logic.emptyMember()] }), TODAY);
    expect(errors['members.0.name']).toBe('请填写家庭成员姓名');
    expect(errors['members.0.relation']).toBe('请选择与申请人的关系');
    expect(errors['members.0.id_number']).toBe('请填写身份证号码');
  });

  test('without consent, or with a signature that is not the applicant, nothing may be sent', () => {
    const noConsent = logic.prepareApplication(filled({ consent: false }), { clientId: 'c', deviceId: 'd', today: TODAY });
    expect(noConsent.ok).toBe(false);
    expect(noConsent.body).toBeUndefined();
    expect(noConsent.errors['consent.economic_check']).toContain('授权家庭经济状况核对');

    const wrongName = logic.prepareApplication(filled({ signedName: '王五' }), { clientId: 'c', deviceId: 'd', today: TODAY });
    expect(wrongName.ok).toBe(false);
    expect(wrongName.errors['consent.signed_name']).toBe('签名要和申请人姓名一样');
    expect(logic.consentState(filled())).toEqual({ ok: true, reason: '' });
  });

  test('members are added and removed without touching the old list', () => {
    const one = logic.addMember([]);
    const two = logic.addMember(one);
    const edited = logic.updateMember(two, 1, 'name', '小明');
    expect(two[1].name).toBe('');
    expect(edited[1].name).toBe('小明');
    expect(logic.removeMember(edited, 0)).toEqual([{ name: '小明', id_number: '', relation: '' }]);
    const full = Array.from({ length: logic.MAX_MEMBERS }, logic.emptyMember);
    expect(logic.addMember(full)).toHaveLength(logic.MAX_MEMBERS);
  });

  test('houses and cars: at most 50, as the server allows', () => {
    expect(logic.validateApplication(filled({ houseCount: '50', carCount: '50' }), TODAY)).toEqual({});
    const errors = logic.validateApplication(filled({ houseCount: '51', carCount: '99' }), TODAY);
    expect(errors['assets.house_count']).toBe('请填 0 到 50 之间的整数');
    expect(errors['assets.car_count']).toBe('请填 0 到 50 之间的整数');
  });

  test('blank savings are left out of the body, not sent as 0', () => {
    const blank = logic.prepareApplication(filled({ savings: '  ' }), { clientId: 'c', deviceId: 'd', today: TODAY });
    expect(blank.ok).toBe(true);
    expect(blank.body.assets).toEqual({ house_count: 1, car_count: 0 });
    expect('savings_yuan' in blank.body.assets).toBe(false);
    const zero = logic.prepareApplication(filled({ savings: '0' }), { clientId: 'c', deviceId: 'd', today: TODAY });
    expect(zero.body.assets.savings_yuan).toBe(0);
  });

  test('money with more than two decimals is refused', () => {
    expect(logic.validateApplication(filled({ income: '100.123' }), TODAY).income_monthly_yuan).toContain('两位小数');
  });
});

describe('申请 page', () => {
  let control;
  beforeEach(() => {
    control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    control.respond((req) => {
      if (/\/applications$/.test(req.url)) return { statusCode: 201, data: { id: 'a1', number: '330523001-SQ-2026-00002', township: { name: '递铺街道' } } };
      return { statusCode: 200, data: {} };
    });
  });

  const submitButton = (page) => page.querySelector('.btn--primary');

  test('the button is disabled with the reason until consent is ticked and signed', async () => {
    const page = loadPage('resident/apply').render({});
    await settle(6);
    expect(wxmlAttr(submitButton(page), 'disabled')).toBe(true);
    expect(page.querySelector('.apply__blocked').dom.textContent).toBe('请先勾选「授权家庭经济状况核对」，才能提交');

    page.querySelector('.apply__consent-group').dispatchEvent('change', { detail: { value: ['agree'] } });
    await settle(2);
    expect(page.querySelector('.apply__blocked').dom.textContent).toBe('请在签名处写上申请人姓名');

    page.querySelectorAll('.input')[0].dispatchEvent('input', { detail: { value: '李四' } });
    page.querySelector('.apply__signature').dispatchEvent('input', { detail: { value: '李' } });
    await settle(2);
    expect(page.querySelector('.apply__blocked').dom.textContent).toBe('签名要和申请人姓名一样');
    page.querySelector('.apply__signature').dispatchEvent('input', { detail: { value: '李四' } });
    await settle(2);
    expect(wxmlAttr(submitButton(page), 'disabled')).toBe(false);
    expect(page.querySelector('.apply__blocked')).toBeUndefined();
  });

  test('even a forced submit without consent sends nothing', async () => {
    const page = loadPage('resident/apply').render({});
    await settle(6);
    page.instance.setData({ form: filled({ consent: false }) });
    page.instance.onSubmit();
    await settle(6);
    expect(control.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(control.calls.modal[0].content).toContain('授权家庭经济状况核对');
  });

  test('a complete application is sent once, with its photos, and the household shown', async () => {
    const page = loadPage('resident/apply').render({});
    await settle(6);
    page.instance.setData({ form: filled({ photos: [{ path: 'tmp/hukou.jpg', client_photo_id: 'ph-1' }] }) });
    page.instance.setData({ consentState: logic.consentState(filled()) });
    expect(page.querySelectorAll('.apply__member')).toHaveLength(1);
    submitButton(page).dispatchEvent('tap');
    await settle(20);
    const posts = control.requests.filter((r) => /\/applications$/.test(r.url));
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0].data).consent).toEqual({ economic_check: true, signed_name: '李四' });
    expect(control.uploads.map((u) => [u.url.replace(/^https?:\/\/[^/]+/, ''), u.formData.client_photo_id])).toEqual([
      ['/mp/v1/applications/a1/photos', 'ph-1'],
    ]);
    expect(control.calls.modal[0].content).toContain('递铺街道');
  });

  test('photos that did not go through are offered again before leaving, with the same ids', async () => {
    let up = false;
    control.respondUpload(() => (up ? { statusCode: 200, data: '{"photo_id":"d1","status":"received"}' } : { statusCode: 503, data: '' }));
    control.answerModal((o) => {
      if (o.title === '照片没有传完') up = true;
      return { confirm: true, cancel: false };
    });
    const page = loadPage('resident/apply').render({});
    await settle(6);
    page.instance.setData({ form: filled({ photos: [{ path: 'tmp/hukou.jpg', client_photo_id: 'ph-1' }] }), consentState: { ok: true, reason: '' } });
    submitButton(page).dispatchEvent('tap');
    await settle(40);
    expect(control.calls.modal.filter((m) => m.title === '照片没有传完')).toHaveLength(1);
    expect(new Set(control.uploads.map((u) => u.formData.client_photo_id))).toEqual(new Set(['ph-1']));
    expect(control.requests.filter((r) => /\/applications$/.test(r.url))).toHaveLength(1);
    const done = control.calls.modal.pop();
    expect(done.title).toBe('申请已提交');
    expect(done.content).not.toContain('没有传上去');
    expect(control.calls.navigate).toEqual(['/resident/item/index?kind=application&id=a1']);
  });

  test('server field errors land under the right member', async () => {
    control.respond(() => ({
      statusCode: 422,
      data: { title: '填写的内容有误', detail: '第 1 位家庭成员的身份证号码不正确', status: 422, errors: [{ field: 'members.0.id_number', message: '身份证号码不正确' }] },
    }));
    const page = loadPage('resident/apply').render({});
    await settle(6);
    page.instance.setData({ form: filled(), consentState: { ok: true, reason: '' } });
    submitButton(page).dispatchEvent('tap');
    await settle(20);
    expect(page.instance.data.errors).toEqual({ 'members.0.id_number': '身份证号码不正确' });
    const member = page.querySelector('.apply__member').dom;
    expect(Array.from(member.querySelectorAll('.error')).map((n) => n.textContent)).toEqual(['身份证号码不正确']);
    expect(member.querySelector('.input--error').getAttribute('data-field')).toBe('id_number');
  });
});
