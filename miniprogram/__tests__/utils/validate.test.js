const v = require('../../utils/validate');

// 11010519491231002X is the worked example of GB 11643-1999; 110105491231002 is its
// first-generation (15-digit) form.
const GB_EXAMPLE = '11010519491231002X';
const TODAY = new Date(2026, 4, 1);

describe('ID number (GB 11643)', () => {
  test('the standard example passes, with an X check character', () => {
    expect(v.idCheckChar('11010519491231002')).toBe('X');
    expect(v.checkIdNumber(GB_EXAMPLE, TODAY)).toEqual({ ok: true, value: GB_EXAMPLE, converted: false });
  });

  test('weights and check characters are the standard ones', () => {
    expect(v.ID_WEIGHTS).toEqual([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]);
    expect(v.ID_CHECK_CHARS).toBe('10X98765432');
    // all ones: the weights sum to 100; 100 % 11 = 1 -> '0'
    expect(v.idCheckChar('11111111111111111')).toBe('0');
  });

  test('a wrong check digit is refused with a message about the last digit', () => {
    const r = v.checkIdNumber('110105194912310021', TODAY);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('校验码');
  });

  test('every one-digit change of a valid number is caught', () => {
    const valid = '330523198001011233';
    expect(v.checkIdNumber(valid, TODAY).ok).toBe(true);
    for (let i = 14; i < 17; i += 1) {
      const d = (Number(valid[i]) + 1) % 10;
      const changed = valid.slice(0, i) + d + valid.slice(i + 1);
      expect(v.checkIdNumber(changed, TODAY).ok).toBe(false);
    }
  });

  test('residence permits of Hong Kong, Macau and Taiwan residents pass', () => {
    // Check digits worked by hand (weights above, sum mod 11 -> '10X98765432'):
    // 83000019900101001 sums to 164, 164 % 11 = 10 -> '2';
    // 81000019940823002 sums to 253, 253 % 11 = 0 -> '1'.
    expect(v.checkIdNumber('830000199001010012', TODAY)).toEqual({
      ok: true, value: '830000199001010012', converted: false,
    });
    expect(v.checkIdNumber('810000199408230021', TODAY).ok).toBe(true);
    expect(v.checkIdNumber('830000199001010013', TODAY).ok).toBe(false);
  });

  test('lower-case x and spaces are accepted', () => {
    expect(v.checkIdNumber(' 110105 19491231 002x ', TODAY)).toMatchObject({ ok: true, value: GB_EXAMPLE });
  });

  test('15 digits convert to 18 by inserting 19 and computing the check character', () => {
    expect(v.convert15To18('110105491231002')).toBe(GB_EXAMPLE);
    expect(v.checkIdNumber('110105491231002', TODAY)).toEqual({ ok: true, value: GB_EXAMPLE, converted: true });
  });

  test('birth date must be a real past date', () => {
    const withBody = (body) => body + v.idCheckChar(body);
    expect(v.checkIdNumber(withBody('33052319800230123'), TODAY).message).toContain('出生日期'); // 30 Feb
    expect(v.checkIdNumber(withBody('33052320300101123'), TODAY).message).toContain('出生日期'); // future
    expect(v.checkIdNumber(withBody('33052320000229123'), TODAY).ok).toBe(true); // leap day
    expect(v.checkIdNumber('330523801301123', TODAY).message).toContain('出生日期'); // 15-digit, month 13
    expect(v.birthDateOf('11010519491231002X', TODAY)).toEqual({ year: 1949, month: 12, day: 31 });
  });

  test('length, characters and province are checked', () => {
    expect(v.checkIdNumber('1101051949123100', TODAY).ok).toBe(false);
    expect(v.checkIdNumber('11010519491231X02X', TODAY).ok).toBe(false);
    const body = '99010519491231002';
    expect(v.checkIdNumber(body + v.idCheckChar(body), TODAY).message).toContain('前两位');
    expect(v.checkIdNumber('', TODAY).message).toBe('请填写身份证号码');
  });
});

describe('phone, money, required fields', () => {
  test('mobile and landline numbers', () => {
    expect(v.checkPhone('138 0000 0000')).toEqual({ ok: true, value: '13800000000' });
    expect(v.checkPhone('+8613800000000')).toEqual({ ok: true, value: '13800000000' });
    expect(v.checkPhone('0572-5123456')).toEqual({ ok: true, value: '05725123456' });
    expect(v.checkPhone('12800000000').ok).toBe(false);
    expect(v.checkPhone('1380000000').ok).toBe(false);
    expect(v.isMobile('19912345678')).toBe(true);
  });

  test('yuan with at most two decimals', () => {
    expect(v.checkYuan('1200.5')).toEqual({ ok: true, value: 1200.5 });
    expect(v.checkYuan('0')).toEqual({ ok: true, value: 0 });
    expect(v.checkYuan('12.345').ok).toBe(false);
    expect(v.checkYuan('-3').ok).toBe(false);
    expect(v.checkYuan('').message).toContain('没有就填 0');
  });

  test('required fields answer Chinese messages keyed by dotted field path', () => {
    const errors = v.requireFields(
      { applicant: { name: ' ', phone: '139' }, category: '', hukou_village_code: null },
      ['category', 'applicant.name', 'applicant.phone', 'hukou_village_code'],
    );
    expect(errors).toEqual({
      category: '请选择救助类别',
      'applicant.name': '请填写申请人姓名',
      hukou_village_code: '请选择户籍所在村（社区）',
    });
    expect(v.firstError(errors)).toBe('请选择救助类别');
  });
});
