// 网格员登录: staff account and this phone's device id.
const { requireFields } = require('../../utils/validate');

function validateLogin(form) {
  return requireFields(form, ['username', 'password']);
}

// The message for a failed login: the server's sentence, or a plain one when offline.
function loginErrorText(err) {
  if (err.network) return '没有网络，登录需要联网。上报的内容可以先保存，有网络时自动发送。';
  if (err.status === 429) return err.message || '登录失败次数太多，请过一会儿再试';
  return err.message || '账号或密码不对';
}

module.exports = { validateLogin, loginErrorText };
