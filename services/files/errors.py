"""Error codes of the files service, in Chinese and English.

Titles double as the messages of field errors, so those that take parameters are filled from the same
parameters as the detail.
"""

from services.common.errors import Message, register_messages

register_messages({
    "files.file_not_found": Message("附件不存在", "File not found",
                                    "未找到该附件，或您无权查看。",
                                    "The file does not exist or you may not see it."),
    "files.application_not_found": Message("申报不存在", "Application not found",
                                           "未找到编号为 {application_id} 的申报，或您无权操作。",
                                           "Application {application_id} does not exist or is not yours."),
    "files.slot_locked": Message("该附件当前不能修改", "These files cannot be changed now",
                                 "“{label}”属于“{module_zh}”，该部分当前不能上传或删除附件：申报提交后附件即锁定；"
                                 "被退回时，只有审核人勾选需修改的部分可以修改。",
                                 "{label_en} belongs to {module_en}, which cannot be changed now: files are "
                                 "locked once the application is submitted, and after a return only the parts "
                                 "the reviewer ticked can change."),
    "files.too_many": Message("附件数量已达上限", "Too many files",
                              "“{label}”最多上传 {max_count} 个附件，已上传 {count} 个，"
                              "请先删除不需要的附件。",
                              "At most {max_count} files of kind {kind} are allowed and {count} are "
                              "uploaded; delete one first."),
    "files.too_large": Message("附件超过大小上限", "File too large",
                               "“{label}”的附件不能超过 {max_mib} MB（{max_bytes} 字节），"
                               "请降低扫描分辨率或压缩后重新上传。",
                               "Files of kind {kind} may be at most {max_mib} MiB ({max_bytes} bytes); scan at "
                               "a lower resolution or compress the file and upload it again."),
    "files.empty_file": Message("文件内容为空，请重新选择文件", "The file is empty; choose another file",
                                "所选文件大小为 0 字节，可能已损坏或未下载完成，请检查后重新选择文件。",
                                "The chosen file has 0 bytes; it may be damaged or not fully downloaded. "
                                "Check it and choose it again."),
    "files.unsupported_format": Message("附件格式不符合要求", "Unsupported file format",
                                        "“{file_name}”的实际格式是 {detected}，“{label}”只接受以下格式："
                                        "{allowed}。文件格式按文件内容识别，修改扩展名无效。",
                                        "{file_name} is really a {detected} file, and {kind} accepts only "
                                        "{allowed}. The format is detected from the content, not from the "
                                        "file name."),
    "files.unknown_format": Message("无法识别的文件格式", "Unrecognised file format",
                                    "无法识别“{file_name}”的格式，“{label}”只接受以下格式：{allowed}。"
                                    "文件格式按文件内容识别，修改扩展名无效。",
                                    "The format of {file_name} is not recognised, and {kind} accepts only "
                                    "{allowed}. The format is detected from the content, not from the file name."),
    "files.heic_not_accepted": Message(
        "不支持 HEIC 格式的照片，请转换为 JPG 后上传", "HEIC photos are not accepted; convert to JPG",
        "“{file_name}”的实际格式是 {detected}（苹果手机默认的照片格式），修改扩展名不会改变格式，"
        "“{label}”只接受 {allowed}。请在手机相册中将照片导出为 JPG 后重新上传，"
        "或在 iPhone 设置 > 相机 > 格式 中选择“兼容性最佳”后重新拍摄。",
        "{file_name} is really a {detected} image (the default photo format of iPhones), and renaming it does "
        "not change the format; {kind} accepts only {allowed}. Export the photo as JPG from the phone's photo "
        "album and upload it again, or choose Settings > Camera > Formats > Most Compatible on the iPhone and "
        "take the photo again."),
    "files.image_format_not_accepted": Message(
        "不支持该图片格式，请转换为 JPG 或 PNG 后上传", "Image format not accepted; convert to JPG or PNG",
        "“{file_name}”的实际格式是 {detected}，“{label}”只接受 {allowed}。"
        "请用看图或画图软件将图片另存为 JPG 或 PNG 后重新上传。",
        "{file_name} is really a {detected} image, and {kind} accepts only {allowed}. Save the image as JPG "
        "or PNG in an image viewer or editor and upload it again."),
    "files.document_format_not_accepted": Message(
        "不支持该文件格式，请转换后上传", "File format not accepted; convert it first",
        "“{file_name}”的实际格式是 {detected}，“{label}”只接受 {allowed}。"
        "Word、Excel、WPS 等文档请另存为或打印为 PDF，压缩包请解压后逐个上传。",
        "{file_name} is really a {detected} file, and {kind} accepts only {allowed}. Save or print Word, Excel "
        "and WPS documents as PDF, and unpack archives to upload their files one by one."),
    "files.pdf_encrypted": Message(
        "PDF 文件设有打开密码，请去除密码后上传", "The PDF needs a password; remove it first",
        "“{file_name}”需要密码才能打开，审核人员将无法查看。请用 PDF 阅读器输入密码打开后，"
        "另存为或打印为不带密码的 PDF，再重新上传。",
        "{file_name} needs a password to open, so reviewers could not read it. Open it with the password in "
        "a PDF reader, save or print it as a PDF without a password, and upload that file."),
    "files.double_extension": Message(
        "文件名含有双重扩展名（{extensions}），请修改文件名", "The file name has two extensions ({extensions})",
        "文件名“{file_name}”以 {extensions} 结尾，像是伪装成文档的其他类型文件，已拒绝。"
        "请改为只有一个扩展名的名称（例如“学位证.pdf”）后重新上传。",
        "The file name {file_name} ends in {extensions}, the way files disguised as documents do, so it is "
        "rejected. Rename it to a name with one extension (such as degree.pdf) and upload it again."),
    "files.executable_extension": Message(
        "不能上传程序文件（{extension}）", "Program files ({extension}) cannot be uploaded",
        "文件名“{file_name}”的扩展名 {extension} 属于程序或脚本，不能作为附件上传，请上传 {allowed} 格式的文件。",
        "The extension {extension} of {file_name} belongs to programs or scripts, which cannot be attached; "
        "upload a {allowed} file."),
    "files.duplicate_file": Message(
        "该文件已上传过", "This file is already uploaded",
        "与本项已上传的“{existing_name}”内容完全相同（SHA-256 一致），无需重复上传。",
        "Its content is identical (same SHA-256) to {existing_name}, which is already uploaded here."),
    "files.upload_incomplete": Message("上传未完成，请重新上传", "Upload incomplete; upload the file again",
                                       "上传过程中连接中断，文件没有保存，请重新上传。",
                                       "The connection broke off during the upload, so nothing was saved; "
                                       "upload the file again."),
    "files.file_missing": Message("请选择要上传的文件（表单字段 file）",
                                  "Choose a file to upload (form field file)"),
    "files.field_before_file": Message("必填项，且须在 file 部分之前发送",
                                       "Required, and must be sent before the file part"),
    "files.entry_required": Message("该类附件须指明所属经历（entry_id）",
                                    "This kind of file needs the entry it belongs to (entry_id)"),
    "files.entry_not_found": Message("该条经历不存在或尚未保存，请先保存该条经历，再上传它的附件",
                                     "No saved entry has this entry_id; save the entry first, then upload "
                                     "its attachments"),
    "files.entry_not_allowed": Message("该类附件不属于某条经历，请不要发送 entry_id",
                                       "This kind of file belongs to no entry; do not send entry_id"),
    "files.multipart_required": Message("请以 multipart/form-data 格式上传",
                                        "Send the upload as multipart/form-data",
                                        "上传请求须为 multipart/form-data，依次包含 kind、application_id、"
                                        "entry_id（如需）和 file。",
                                        "The upload must be multipart/form-data with kind, application_id, "
                                        "entry_id (when needed) and then file."),
    "files.multipart_invalid": Message("上传内容格式错误", "Malformed multipart body",
                                       "上传请求的 multipart 内容不完整或格式错误，请重新上传。",
                                       "The multipart body is incomplete or malformed; "
                                       "upload the file again."),
})
