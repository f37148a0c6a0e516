"""The IFA network: shared backbone, semantic + instance decoders, TCF and the inter decoder.

`forward` is the streaming (ONNX) signature of docs/model-contract.md; `forward_train` runs a
batch of (target, reference) image pairs for training.
"""

from __future__ import annotations

import torch
from torch import nn

from .backbone import build_backbone
from .config import ModelConfig
from .decoders import Decoder, FuseUp, Head, InterDecoder
from .fusion import build_fusion
from .layers import upsample_to

FUSED32_CH = 96
FUSED16_CH = 64


class IFANet(nn.Module):
    def __init__(self, cfg: ModelConfig, pretrained: bool = False):
        """pretrained: start the backbone from its ImageNet weights (where the backbone has them)."""
        super().__init__()
        self.cfg = cfg
        self.backbone = build_backbone(cfg.backbone, cfg.width, pretrained)
        chans = list(self.backbone.channels)
        self.c16, self.c32 = chans[2], chans[3]
        self.sem_dec = Decoder(chans, cfg.aspp_ch, cfg.dec_ch)
        self.ins_dec = Decoder(chans, cfg.aspp_ch, cfg.dec_ch)
        self.sem_head = Head(cfg.dec_ch[2], cfg.head_ch, cfg.num_classes + 1)
        self.center_head = Head(cfg.dec_ch[2], cfg.head_ch, 1)
        self.offset_head = Head(cfg.dec_ch[2], cfg.head_ch, 2)
        self.tcf32 = build_fusion(cfg.temporal_fusion, self.c32, FUSED32_CH, cfg.attn_dim, cfg.tcf_local)
        self.tcf16 = build_fusion(cfg.temporal_fusion, self.c16, FUSED16_CH, cfg.attn_dim, cfg.tcf_local)
        self.inter_dec = InterDecoder(FUSED32_CH, FUSED16_CH, chans[1], cfg.dec_ch, cfg.head_ch)
        if cfg.mask_stride not in (2, 4):
            raise ValueError(f"mask_stride {cfg.mask_stride}: 2 or 4")
        self.s2 = cfg.mask_stride == 2
        if self.s2:
            ch2 = getattr(self.backbone, "CH2", None)
            if ch2 is None:
                raise ValueError(f"mask_stride 2 needs a backbone with a stride-2 tap, not {cfg.backbone}")
            self.sem_up2 = FuseUp(cfg.dec_ch[2], ch2, 16, cfg.head_ch)
            self.sem_head2 = Head(cfg.head_ch, cfg.head_ch, cfg.num_classes + 1)
            # A residual on the upsampled stride-4 logits that starts at zero: a model continued
            # from stride-4 weights begins exactly where it was (its loss already saw upsampled logits).
            nn.init.zeros_(self.sem_head2[-1].weight)
            nn.init.zeros_(self.sem_head2[-1].bias)
        # Start the heatmap low (most cells are background), as detection heads usually do.
        nn.init.constant_(self.center_head[-1].bias, -4.0)
        # The flow starts at exactly zero (inter_offset = offset), the "no motion" baseline that
        # already matches most instances at a gap of one frame; training then only improves on it.
        nn.init.zeros_(self.inter_dec.head[-1].weight)
        nn.init.zeros_(self.inter_dec.head[-1].bias)

    def _backbone(self, image: torch.Tensor, with_s2: bool = False) -> list[torch.Tensor]:
        """The backbone's features, with `pad_bottom_right` (config) added before it and cropped
        after it, so every feature keeps the unpadded input's grid."""
        p = self.cfg.pad_bottom_right
        x = nn.functional.pad(image, (0, p, 0, p)) if p > 0 else image
        # Only Lite0 has the stride-2 tap, so the other backbones are called without the keyword.
        feats = self.backbone(x, with_s2=True) if with_s2 else self.backbone(x)
        if p <= 0:
            return feats
        h, w = image.shape[-2:]
        strides = ([2] if with_s2 else []) + [4, 8, 16, 32]
        return [f[..., : -(-h // s), : -(-w // s)] for f, s in zip(feats, strides)]

    def _features(self, image: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        """Strides 4-32, and the stride-2 feature when the head refines at stride 2."""
        if self.s2:
            f2, *feats = self._backbone(image, with_s2=True)
            return feats, f2
        return self._backbone(image), None

    def _frame_heads(self, feats: list[torch.Tensor], f2: torch.Tensor | None = None):
        """Semantic logits at the mask stride; center and offset at stride 4."""
        s = self.sem_dec(feats)
        i = self.ins_dec(feats)
        semantic = self.sem_head(s)
        if f2 is not None:
            semantic = upsample_to(semantic, f2) + self.sem_head2(self.sem_up2(s, f2))
        center = torch.sigmoid(self.center_head(i))
        offset = self.offset_head(i) * self.cfg.offset_scale
        return semantic, center, offset

    def _inter(self, f8, f16, f32, r16, r32, offset):
        return self._inter_attn(f8, f16, f32, r16, r32, offset)[0]

    def _inter_attn(self, f8, f16, f32, r16, r32, offset):
        fused32, attn32 = self.tcf32.attend(f32, r32)
        fused16, attn16 = self.tcf16.attend(f16, r16)
        hint = offset.detach() * (1.0 / self.cfg.offset_scale)
        flow = self.inter_dec(fused32, fused16, f8, hint) * self.cfg.offset_scale
        return (flow + offset if self.cfg.inter_residual else flow), attn16, attn32

    def forward(self, image: torch.Tensor, ref_feat16: torch.Tensor, ref_feat32: torch.Tensor):
        """Streaming step: image [1,3,H,W], memory [L,C,h,w] -> contract outputs."""
        (f4, f8, f16, f32), f2 = self._features(image)
        semantic, center, offset = self._frame_heads([f4, f8, f16, f32], f2)
        n_ref = ref_feat16.shape[0]
        inter = self._inter(
            f8.expand(n_ref, -1, -1, -1),
            f16.expand(n_ref, -1, -1, -1),
            f32.expand(n_ref, -1, -1, -1),
            ref_feat16,
            ref_feat32,
            offset.expand(n_ref, -1, -1, -1),
        )
        if f2 is not None:  # the contract has one stride for every map
            center, offset, inter = (upsample_to(x, f2) for x in (center, offset, inter))
        return semantic, center, offset, inter, f16, f32

    def forward_train(self, img_t: torch.Tensor, img_r: torch.Tensor, ref_heads: bool = False) -> dict:
        """B pairs: every target frame gets one reference frame (B independent pairs).

        ref_heads=False: the reference is encoded without gradients, as the memory is at inference.
        ref_heads=True: target and reference go through the backbone as one batch with gradients and
        both get the frame heads (outputs `*_r`), so every decoded frame is supervised; the flow and
        attention losses then also train the reference's encoding.
        """
        b = img_t.shape[0]
        if ref_heads:
            (f4, f8, f16, f32), f2 = self._features(torch.cat([img_t, img_r]))
            semantic, center, offset = self._frame_heads([f4, f8, f16, f32], f2)
            out = {"semantic_r": semantic[b:], "center_r": center[b:], "offset_r": offset[b:]}
            semantic, center, offset = semantic[:b], center[:b], offset[:b]
            r16, r32 = f16[b:], f32[b:]
            f8, f16, f32 = f8[:b], f16[:b], f32[:b]
        else:
            (f4, f8, f16, f32), f2 = self._features(img_t)
            with torch.no_grad():
                _, _, r16, r32 = self._backbone(img_r)
            semantic, center, offset = self._frame_heads([f4, f8, f16, f32], f2)
            out = {}
        inter, attn16, attn32 = self._inter_attn(f8, f16, f32, r16, r32, offset)
        out.update(semantic=semantic, center=center, offset=offset, inter_offset=inter)
        if attn16 is not None:
            out.update(attn16=attn16, attn32=attn32)
        return out


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
