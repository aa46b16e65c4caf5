"""Error codes of the identity service, with Chinese and English messages."""

from services.common.errors import Message, register_messages

register_messages({
    "identity.mobile_invalid": Message("手机号码格式不正确，请填写 11 位大陆手机号码",
                                       "Invalid mobile number; use an 11-digit mainland number"),
    "identity.id_number_invalid": Message(
        "公民身份号码（身份证号）无效，请核对 18 位号码、出生日期和末位校验码",
        "Invalid ID number (公民身份号码); check the 18 characters, the birth date and the check character"),
    "identity.uscc_invalid": Message(
        "统一社会信用代码无效，请核对 18 位代码和末位校验码",
        "Invalid unified social credit code (统一社会信用代码); "
        "check the 18 characters and the check character"),
    "identity.real_name_invalid": Message("姓名应为 2 至 30 个字符", "The name must be 2 to 30 characters"),
    "identity.account_invalid": Message(
        "账号应为 3 至 32 位小写字母、数字或 . _ -，以字母开头，且不能是统一社会信用代码",
        "The account must be 3 to 32 lower-case letters, digits or . _ -, start with a letter, "
        "and must not be a unified social credit code"),
    "identity.password_length": Message("密码长度应为 8 至 32 位", "The password must be 8 to 32 characters"),
    "identity.password_characters": Message(
        "密码只能包含英文字母、数字和英文符号，不能包含空格",
        "The password may contain only ASCII letters, digits and symbols, without spaces"),
    "identity.password_classes": Message(
        "密码须至少包含大写字母、小写字母、数字、符号中的三类",
        "The password needs at least three of: upper-case letters, lower-case letters, digits, symbols"),
    "identity.password_contains_identity": Message(
        "密码不能包含手机号码、身份证号或统一社会信用代码",
        "The password must not contain the mobile number, ID number or unified social credit code"),
    "identity.captcha_invalid": Message(
        "图形验证码错误或已失效", "Wrong or expired captcha",
        "图形验证码错误或已失效，请刷新验证码后重新填写。",
        "The captcha is wrong, expired or already used; load a new captcha and try again."),
    "identity.sms_code_invalid": Message(
        "短信验证码错误", "Wrong SMS code",
        "短信验证码错误，请核对后重新填写。", "The SMS code is wrong; check it and try again."),
    "identity.sms_code_expired": Message(
        "短信验证码已失效", "SMS code expired",
        "短信验证码已过期、已使用或错误次数过多，请重新获取。",
        "The SMS code is expired, already used or was entered wrongly too often; request a new code."),
    "identity.sms_too_frequent": Message(
        "短信发送过于频繁", "SMS codes requested too often",
        "请 {seconds} 秒后再获取短信验证码。", "Request another SMS code in {seconds} seconds."),
    "identity.sms_unavailable": Message(
        "短信服务暂不可用", "SMS service unavailable",
        "短信服务尚未配置，暂时无法发送验证码，请联系管理员。",
        "No SMS provider is configured, so no code can be sent; contact the administrator."),
    "identity.mobile_registered": Message(
        "该手机号码已注册", "This mobile number is already registered",
        "该手机号码已注册。如果忘记了密码，请在登录页点击“忘记密码”找回。",
        "This mobile number is already registered. If you forgot the password, "
        "use 忘记密码 (forgot password) on the sign-in page."),
    "identity.id_number_registered": Message(
        "该身份证号已注册", "This ID number is already registered",
        "该公民身份号码已注册。如果忘记了密码，请在登录页点击“忘记密码”找回。",
        "This ID number is already registered. If you forgot the password, "
        "use 忘记密码 (forgot password) on the sign-in page."),
    "identity.registration_token_invalid": Message(
        "注册凭证无效或已使用", "Invalid or already used registration token",
        "请重新获取短信验证码，验证手机号码后再填写注册信息。",
        "Request a new SMS code, verify the mobile number again, then submit the registration."),
    "identity.registration_token_expired": Message(
        "注册凭证已过期", "Registration token expired",
        "验证手机号码后须在 15 分钟内完成注册，请重新获取短信验证码。",
        "Registration must be completed within 15 minutes of verifying the mobile number; "
        "request a new SMS code."),
    "identity.registration_mobile_mismatch": Message(
        "手机号码与已验证的号码不一致", "The mobile number differs from the verified one",
        "注册凭证只能注册验证时的手机号码，请使用该号码，或重新获取短信验证码验证新号码。",
        "A registration token registers only the mobile number it verified; use that number, "
        "or request an SMS code for the new number."),
    "identity.uscc_registered": Message(
        "该统一社会信用代码已注册", "This unified social credit code is already registered",
        "该单位已注册。如果忘记了密码，请在登录页点击“忘记密码”找回。",
        "This unit is already registered. If you forgot the password, "
        "use 忘记密码 (forgot password) on the sign-in page."),
    "identity.account_taken": Message("该账号已存在", "This account already exists",
                                      "请换一个账号名称。", "Choose another account name."),
    "identity.invalid_credentials": Message(
        "账号或密码错误", "Wrong account or password",
        "账号或密码错误，请核对后重新登录。",
        "The account or password is wrong; check them and sign in again."),
    "identity.sign_in_throttled": Message(
        "登录失败次数过多", "Too many failed sign-ins",
        "登录失败次数过多，请 {wait_zh}后再试。", "Too many failed sign-ins; try again in {wait_en}."),
    "identity.refresh_token_invalid": Message(
        "登录已失效，请重新登录", "The refresh token is invalid or expired; sign in again"),
    "identity.sms_daily_limit": Message(
        "今日短信验证码次数已达上限", "Daily SMS code limit reached",
        "该手机号码或当前网络今日获取短信验证码的次数已达上限，请 {wait_zh}后再试。",
        "This mobile number or network has requested the maximum number of SMS codes for a day; "
        "try again in {wait_en}."),
    "identity.reset_account_required": Message(
        "请填写要找回密码的单位统一社会信用代码", "Enter the credit code of the unit to reset",
        "该手机号码是多个单位的联系人手机号码，请填写要找回密码的单位的统一社会信用代码。",
        "This mobile number is the contact of several units; enter the unified social credit code of the unit."),
    "identity.reset_account_not_found": Message(
        "该统一社会信用代码的单位联系人手机号码不是此号码", "No unit with this credit code has this contact mobile",
        "请核对统一社会信用代码，或使用该单位登记的联系人手机号码。",
        "Check the unified social credit code, or use the contact mobile the unit registered."),
    "identity.qr_ticket_not_found": Message("二维码不存在或已失效", "QR sign-in ticket not found",
                                            "请刷新页面上的二维码后重新扫描。",
                                            "Refresh the QR code on the page and scan it again."),
    "identity.too_many_requests": Message(
        "请求过于频繁", "Too many requests",
        "当前网络的请求过于频繁，请 {seconds} 秒后再试。",
        "Too many requests from this network; try again in {seconds} seconds."),
    "identity.qr_app_session_required": Message(
        "请使用手机 App 扫码", "Scan with the mobile app",
        "扫码登录须在已登录的手机 App 中扫描和确认，网页登录的会话不能扫码。",
        "A QR sign-in is scanned and confirmed in the signed-in mobile app; a web session cannot scan it."),
    "identity.qr_ticket_expired": Message("二维码已过期", "QR code expired",
                                          "二维码有效期为 2 分钟，请刷新页面上的二维码后重新扫描。",
                                          "A QR code is valid for 2 minutes; refresh it on the page and scan again."),
    "identity.qr_ticket_used": Message("二维码已被使用", "QR code already used",
                                       "该二维码已被扫描或已确认登录，请刷新页面上的二维码后重新扫描。",
                                       "This QR code was already scanned or confirmed; refresh it on the page and "
                                       "scan again."),
    "identity.qr_ticket_not_scanned": Message("请先扫描二维码", "Scan the QR code first",
                                              "确认登录前须先用手机扫描该二维码。",
                                              "Scan the QR code with the app before confirming the sign-in."),
    "identity.staff_not_found": Message("工作人员账号不存在", "Staff account not found"),
    "identity.user_not_found": Message("账号不存在", "Account not found"),
    "identity.unit_not_found": Message(
        "该统一社会信用代码尚未注册单位账号", "No unit account has this unified social credit code",
        "请核对统一社会信用代码；单位尚未注册时无需移交，由单位自行注册即可。",
        "Check the code; a unit that has not registered needs no handover and can register itself."),
    "identity.last_admin": Message("不能取消最后一名管理员的管理员角色", "The last admin cannot lose the admin role",
                                   "系统须至少保留一名管理员，请先为其他账号授予管理员角色。",
                                   "The system keeps at least one admin; make another account an admin first."),
    "identity.signing_key_not_found": Message("签名密钥不存在或已停用", "Signing key not found or already retired"),
    "identity.signing_key_active": Message(
        "不能停用正在使用的签名密钥", "The active signing key cannot be retired",
        "请先轮换签名密钥，再停用旧密钥。", "Rotate the signing keys first, then retire the old key."),
    "identity.signing_key_in_use": Message(
        "该签名密钥签发的令牌尚未全部过期", "Tokens signed with this key may still be valid",
        "请 {seconds} 秒后再停用该密钥。", "Retire this key in {seconds} seconds."),
})
