from django.contrib import admin

from marquee.recommendations.models import Interaction, ViewerBlock


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "performer", "kind", "amount"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "performer"]


@admin.register(ViewerBlock)
class ViewerBlockAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "performer"]
    raw_id_fields = ["user", "performer"]
