"""Error codes of the cert service, in Chinese and English."""

from services.common.errors import Message, register_messages

register_messages({
    "cert.not_found": Message("证书不存在", "Certificate not found",
                              "未找到该证书，或您无权查看。",
                              "The certificate does not exist or is not yours to read."),
    "cert.verification_not_found": Message(
        "未找到该核验码对应的证书", "No certificate has this verification code",
        "请核对证书二维码下方的核验码后重试。",
        "Check the verification code printed under the certificate's QR code and retry."),
})
