"""Error codes of the binding service, in Chinese and English."""

from services.common.errors import Message, register_messages

register_messages({
    "binding.invalid_uscc": Message(
        "统一社会信用代码无效，应为 18 位数字或大写字母（不含 I、O、S、V、Z）且校验位正确，请核对后重新输入",
        "Invalid unified social credit code: use 18 digits or upper-case letters (no I, O, S, V, Z) "
        "with a correct check character"),
    "binding.invalid_phone": Message(
        "联系电话格式不正确，请填写 11 位手机号码或带区号的固定电话，例如 0431-88888888",
        "Invalid contact phone: use an 11-digit mobile number or a landline with its area code, "
        "such as 0431-88888888"),
    "binding.unit_not_registered": Message(
        "该单位尚未注册", "The unit is not registered",
        "统一社会信用代码为 {uscc} 的单位尚未在吉林智慧人社系统注册，请联系该单位先完成注册后再绑定。",
        "No unit with the unified social credit code {uscc} is registered; ask the unit to register "
        "first, then bind it."),
    "binding.unit_not_activated": Message(
        "该单位尚未登录过大人才一体化系统", "The unit has not signed in yet",
        "单位“{unit_name}”已注册，但还没有登录过“大人才一体化系统”，请联系该单位登录一次后再绑定。",
        "The unit \"{unit_name}\" is registered but has never signed in; ask the unit to sign in once, "
        "then bind it."),
    "binding.already_bound": Message(
        "您已绑定推荐单位", "You are already bound to a recommending unit",
        "您已绑定推荐单位“{unit_name}”，一人只能同时绑定一个推荐单位；如需绑定新的单位，请先解除原绑定。",
        "You are bound to \"{unit_name}\" and may be bound to one unit at a time; unbind it first to "
        "bind another unit."),
    "binding.request_pending": Message(
        "您有待审核的绑定申请", "You have a binding request pending review",
        "您向“{unit_name}”提交的绑定申请正在等待单位审核；如申请有误，请联系该单位审核为“审核不通过终止审核”"
        "后再重新绑定。",
        "Your request to bind \"{unit_name}\" awaits the unit's review; if it was a mistake, ask the unit "
        "to reject it, then bind again."),
    "binding.not_found": Message("绑定申请不存在", "Binding request not found",
                                 "未找到该绑定申请，请刷新列表后重试。",
                                 "No such binding request; refresh the list and try again."),
    "binding.not_pending": Message(
        "该绑定申请已审核", "The binding request was already decided",
        "该申请当前状态为“{status_label}”，只能审核待审核的申请。",
        "The request's status is \"{status_label_en}\"; only pending requests can be decided."),
    "binding.unbind_pending": Message(
        "待审核的申请不能解除绑定", "A pending request cannot be unbound",
        "您向“{unit_name}”提交的绑定申请尚在审核中，无需解绑；如申请有误，请联系该单位审核为“审核不通过终止审核”。",
        "Your request to bind \"{unit_name}\" is still pending; if it was a mistake, ask the unit to "
        "reject it."),
    "binding.not_bound": Message(
        "未与该单位建立绑定关系", "Not bound to this unit",
        "该申请当前状态为“{status_label}”，只有“材料终审通过”的绑定可以解除。",
        "The request's status is \"{status_label_en}\"; only an approved binding can be unbound."),
    "binding.no_unit": Message(
        "当前账号未关联推荐单位", "The account acts for no unit",
        "请使用单位账号登录后重试。", "Sign in with the unit's account and try again."),
    "binding.not_in_dictionary": Message(
        "“{input}”不是可选项，请从下拉列表中选择", "\"{input}\" is not an option; choose one from the list"),
    "binding.opinion_required": Message(
        "审核不通过时必须填写办件意见", "An opinion is required to reject a request",
        "请填写办件意见，说明审核不通过的原因，以便申请人了解并处理。",
        "Write an opinion that tells the person why the request is rejected."),
    "binding.application_under_review": Message(
        "申报审核中，暂不能解除绑定", "An application is under review; unbinding must wait",
        "您经“{unit_name}”推荐的申报正在审核中（已申报或被退回），推荐单位的审核结束前不能解除绑定。"
        "请在审核结束（材料审核通过，或审核不通过终止审核）后再解除绑定；如有疑问，请联系该单位。",
        "An application recommended by \"{unit_name}\" is under review (submitted or returned), and the "
        "unit's review must finish first. Unbind once the material is approved or the review is "
        "terminated; contact the unit with any question."),
    "binding.profile_changed": Message(
        "报送信息已被修改", "The unit profile was changed meanwhile",
        "报送信息已被他人修改，请刷新后重新编辑。",
        "Someone else changed the unit profile; reload it and edit again."),
})
